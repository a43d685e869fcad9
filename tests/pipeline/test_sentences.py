"""The LLM's stream is cut into sentences for speech, the first one early when a clause allows it."""

from __future__ import annotations

from typing import Any

from voxhub.pipeline.sentences import SentenceSplitter


def split(deltas: list[str], **options: Any) -> list[str]:
    splitter = SentenceSplitter(**options)
    pieces = [piece for delta in deltas for piece in splitter.push(delta)]
    return pieces + splitter.flush()


def test_a_sentence_is_handed_on_as_soon_as_it_ends() -> None:
    splitter = SentenceSplitter()
    assert splitter.push("Hello") == []
    assert splitter.push(" there. How") == ["Hello there."]
    assert splitter.flush() == ["How"]


def test_abbreviations_initials_and_decimals_do_not_end_a_sentence() -> None:
    pieces = split(["Dr. Smith met J. Doe. It costs 3.5 euros! Really?"])
    assert pieces == ["Dr. Smith met J. Doe.", "It costs 3.5 euros!", "Really?"]


def test_the_first_piece_may_end_at_a_clause_once_it_has_enough_words() -> None:
    pieces = split(
        ["Well,", " the capital", " of France is Paris,", " a city of", " light. It is big."],
        first_clause_words=4,
    )
    assert pieces == ["Well, the capital of France is Paris,", "a city of light.", "It is big."]


def test_only_the_first_piece_is_cut_at_a_clause() -> None:
    pieces = split(["Sure. Here, take it, my friend, with love."], first_clause_words=2)
    assert pieces == ["Sure.", "Here, take it, my friend, with love."]


def test_a_newline_ends_a_piece_too() -> None:
    assert split(["First line\nSecond line"]) == ["First line", "Second line"]


def test_english_abbreviations_with_stops_stay_inside_the_sentence() -> None:
    pieces = split(["The U.S. economy grew, e.g. in Texas. Dr. Who came. Done."], language="en")
    assert pieces == ["The U.S. economy grew, e.g. in Texas.", "Dr. Who came.", "Done."]


def test_polish_abbreviations_stay_inside_the_sentence() -> None:
    text = "Kup np. mleko, ok. dwa litry itp. rzeczy, tzn. na jutro. Spotkanie o godz. 8 przy ul. Długiej. Dobrze."
    pieces = split([text], language="pl")
    assert pieces == [
        "Kup np. mleko, ok. dwa litry itp. rzeczy, tzn. na jutro.",
        "Spotkanie o godz. 8 przy ul. Długiej.",
        "Dobrze.",
    ]


def test_and_so_on_ends_a_sentence_when_a_capital_follows() -> None:
    pieces = split(["Mamy jabłka, gruszki itp.", " Potem idziemy."], language="pl")
    assert pieces == ["Mamy jabłka, gruszki itp.", "Potem idziemy."]


def test_an_abbreviation_streamed_word_by_word_waits_for_the_next_word() -> None:
    splitter = SentenceSplitter(language="pl")
    assert splitter.push("Weź np. ") == []
    assert splitter.push("parasol. Pada") == ["Weź np. parasol."]
