"""An answer the token budget cuts ends at its last whole sentence, never mid-word as if it were complete."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.openai_server import OpenAiDouble, running_double
from voxhub.config import Settings
from voxhub.engines.llm.base import ChatMessage, LlmChunk
from voxhub.engines.llm.clean_cut import ANSWER_CUT, CleanCut
from voxhub.engines.llm.openai import OpenAiLlm

STORY = "The dragon slept in a cave. One day a knight came by and woke it up with a song."
QUESTION = [ChatMessage("user", "Tell me a story.")]


def _say(text: str, budget: int, finish_reason: str, tail_tokens: int = 48) -> tuple[str, str]:
    """What the listener hears of `text` streamed a word a token, and what was left unsaid."""
    words = text.split(" ")
    cut = CleanCut(budget, tail_tokens)
    heard = "".join(cut.push(word if index == 0 else " " + word) for index, word in enumerate(words))
    ending = cut.end(finish_reason)
    return heard + ending.text, ending.dropped


def test_a_cut_answer_ends_with_its_last_whole_sentence() -> None:
    heard, dropped = _say("The dragon slept in a cave. One day a knight came", 11, "length")

    assert heard == "The dragon slept in a cave."
    assert dropped == " One day a knight came"


def test_an_answer_that_ends_on_its_own_is_said_whole() -> None:
    assert _say("The dragon slept. One day a knight came", 11, "stop") == (
        "The dragon slept. One day a knight came",
        "",
    )


def test_a_cut_answer_that_happens_to_end_a_sentence_loses_nothing() -> None:
    assert _say("The dragon slept in a cave.", 6, "length") == ("The dragon slept in a cave.", "")


def test_a_cut_answer_with_no_whole_sentence_keeps_its_whole_words_and_trails_off() -> None:
    heard, dropped = _say("Once upon a time there was a", 7, "length")

    assert heard == "Once upon a time there was…"  # the last word may be cut in two: it goes
    assert dropped == " a"


def test_a_cut_list_ends_with_its_last_whole_item_not_the_next_items_number() -> None:
    heard, dropped = _say("Here is how:\n1. Boil water.\n2. Add the egg.\n3. Wait ten", 14, "length")

    assert heard == "Here is how:\n1. Boil water.\n2. Add the egg.\n"
    assert dropped == "3. Wait ten"


def test_text_well_before_the_end_of_the_budget_is_not_held_back() -> None:
    cut = CleanCut(100, tail_tokens=10)

    assert cut.push("The dragon slept", 3) == "The dragon slept"  # the first words go out at once


def test_near_the_end_of_the_budget_text_waits_for_its_sentence_to_end() -> None:
    cut = CleanCut(12, tail_tokens=10)
    cut.push("The dragon", 2)

    assert cut.push(" slept", 1) == ""
    assert cut.push(". One", 1) == " slept."


def test_a_sentence_begun_before_the_hold_and_cut_trails_off_after_its_whole_words() -> None:
    heard, dropped = _say("The dragon slept in a cave and one day a knight came", 12, "length", tail_tokens=4)

    assert heard == "The dragon slept in a cave and one day a knight…"
    assert dropped == " came"


@pytest.fixture
def double() -> OpenAiDouble:
    served = running_double()
    served.state.reply = STORY
    return served


@pytest.fixture
async def llm(settings: Settings, double: OpenAiDouble) -> AsyncIterator[OpenAiLlm]:
    engine = OpenAiLlm.from_settings(settings.model_copy(update={"openai_base_url": double.base_url}))
    yield engine
    await engine.aclose()


async def test_the_engine_cut_by_max_tokens_says_whole_sentences_reports_length_and_what_it_left(
    llm: OpenAiLlm,
) -> None:
    chunks: list[LlmChunk] = [chunk async for chunk in llm.chat(QUESTION, max_tokens=12)]

    assert "".join(chunk.text for chunk in chunks) == "The dragon slept in a cave."
    assert chunks[-1].finish_reason == "length"
    [notice] = [chunk.notice for chunk in chunks if chunk.notice]
    assert notice == (ANSWER_CUT, {"finish_reason": "length", "dropped": " One day a knight came by"})


async def test_the_engine_within_its_budget_says_the_whole_answer(llm: OpenAiLlm) -> None:
    chunks = [chunk async for chunk in llm.chat(QUESTION, max_tokens=100)]

    assert "".join(chunk.text for chunk in chunks) == STORY
    assert chunks[-1].finish_reason == "stop"
    assert not [chunk for chunk in chunks if chunk.notice]
