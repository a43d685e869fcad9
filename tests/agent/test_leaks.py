"""The echo filter: a sentence of the answer that reads an internal note back is never heard."""

from __future__ import annotations

import pytest

from voxhub.agent.brain import INTERNAL_NOTES
from voxhub.agent.leaks import EchoFilter

ECHO = "The user sounds happy: answer in a fitting tone. "
ANSWER = "You're welcome! Glad I could help."


def heard(answer: str, *, split_at: int | None = None) -> str:
    echo = EchoFilter(INTERNAL_NOTES)
    pieces = [answer] if split_at is None else [answer[:split_at], answer[split_at:]]
    return "".join(echo.feed(piece) for piece in pieces) + echo.flush()


def test_an_answer_without_a_note_goes_out_unchanged() -> None:
    assert heard(ANSWER) == ANSWER


def test_the_tone_note_read_back_first_is_dropped() -> None:
    assert heard(ECHO + ANSWER) == ANSWER


def test_the_tone_note_read_back_after_a_first_sentence_is_dropped() -> None:
    assert heard("Sure! " + ECHO + "Have a lovely day.") == "Sure! Have a lovely day."


def test_the_remembered_notes_header_and_the_summary_are_never_read_out() -> None:
    said = "What you remember about this user: likes tea. Summary of the earlier conversation: none. Hi!"
    assert heard(said) == "Hi!"


@pytest.mark.parametrize("split_at", range(len(ECHO + ANSWER) + 1))
def test_however_the_answer_streams_in_what_is_heard_is_the_same(split_at: int) -> None:
    assert heard(ECHO + ANSWER, split_at=split_at) == ANSWER


def test_words_stream_out_as_soon_as_they_cannot_begin_a_note() -> None:
    echo = EchoFilter(INTERNAL_NOTES)
    assert echo.feed("The") == ""  # it could be "The user sounds …"
    assert echo.feed(" weather is ") == "The weather is "
    assert echo.feed(" sunny") == " sunny"


def test_a_short_answer_that_never_reaches_three_words_is_still_heard() -> None:
    assert heard("Yes") == "Yes"
