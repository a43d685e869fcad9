"""The repetition guard on scripted token streams: loops the bundled model really produced, and answers
that repeat a little, as normal answers do, and must come through whole."""

from __future__ import annotations

import re

from voxhub.engines.llm.repetition import RepetitionGuard

JOKE_LOOP = (
    "Why did the scarecrow win an award? Because he was a person who is a person who is a person who is "
    "a person who is a person who is a person who is a person who is a person who is a person who is"
)
CONTINENTS_LOOP = "There are 7,987,987,987,987,987,987,987,987,987,987,987,987,987,987,987,987,987,987"
DIALOGUE_LOOP = (
    'A: "What\'s the most important thing you can do?"\n\n'
    "A: \"I'm not sure I'd say that, but I'd say it's a lie.\"\n\n"
    "A: \"I'm not sure I would say that, but I would say it's true.\"\n\n"
    "A: \"I'm not sure I'd answer that question, but I'd answer it for you.\"\n\n"
    "A: \"I'm not sure I'd give that answer, but I'd give it to you.\"\n\n"
    "A: \"I'm not sure I'd tell that answer to you, but I'd tell it to you.\""
)
HOW_TO = (
    "To boil an egg, put the egg in a pot and cover it with cold water. Bring the water to a boil, then "
    "turn down the heat. For a soft egg, cook it for six minutes; for a hard egg, cook it for ten minutes. "
    "Then put the egg in cold water, so the egg is easy to peel. Peel the egg and enjoy the egg."
)
BIG_NUMBERS = "The Earth is about 4,500,000,000 years old, and light travels 299,792 kilometres a second."


def tokens(text: str) -> list[str]:
    """`text` in pieces the way llama.cpp streams them: words with their leading space, digits one by one."""
    return re.findall(r"\s*\d|\s*[^\s\d]+|\s+", text)


def guarded(text: str) -> tuple[str, bool]:
    """What the listener gets of `text` streamed through a guard, and whether the guard stopped it."""
    guard = RepetitionGuard()
    shown = []
    for piece in tokens(text):
        shown.append(guard.push(piece))
        if guard.looped:
            return "".join(shown), True
    return "".join(shown) + guard.flush(), False


def test_a_phrase_looping_inside_a_sentence_is_cut_after_its_first_time() -> None:
    shown, looped = guarded(JOKE_LOOP)

    assert looped
    assert shown == "Why did the scarecrow win an award? Because he was a person who is "


def test_a_digit_group_running_away_keeps_only_the_numbers_first_group() -> None:
    shown, looped = guarded(CONTINENTS_LOOP)

    assert looped
    assert shown == "There are 7"


def test_lines_that_start_the_same_a_third_time_are_cut_before_that_line() -> None:
    shown, looped = guarded(DIALOGUE_LOOP)

    assert looped
    assert shown.count("I'm not sure I'd") == 2
    assert shown.endswith("\n\n")


def test_a_normal_answer_that_repeats_a_few_words_comes_through_whole() -> None:
    assert guarded(HOW_TO) == (HOW_TO, False)


def test_big_numbers_are_not_a_loop() -> None:
    assert guarded(BIG_NUMBERS) == (BIG_NUMBERS, False)


def test_only_what_might_be_a_loop_is_held_back_while_streaming() -> None:
    guard = RepetitionGuard()

    first = guard.push("The capital")
    second = guard.push(" of France")

    assert (first, second) == ("The ", "capital of ")
    assert guard.flush() == "France"
