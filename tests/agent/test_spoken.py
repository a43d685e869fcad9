"""An LLM's written answer becomes plain words a voice can read aloud."""

from __future__ import annotations

import pytest

from voxhub.agent.spoken import speakable


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("It is 21°C outside.", "It is twenty-one degrees Celsius outside."),
        ("It is 70°F in Miami.", "It is seventy degrees Fahrenheit in Miami."),
        ("Turn it 21 ° to the left.", "Turn it twenty-one degrees to the left."),
        ("The shop is 5 km away.", "The shop is five kilometres away."),
        ("The shop is 1 km away.", "The shop is one kilometre away."),
        ("Wind at 30 km/h.", "Wind at thirty kilometres per hour."),
        ("It used 3 kWh and weighs 2 kg.", "It used three kilowatt hours and weighs two kilograms."),
        ("You have 21 messages.", "You have twenty-one messages."),
        ("It is 3.5 metres tall.", "It is three point five metres tall."),
        ("About 1,200 people came.", "About one thousand two hundred people came."),
        ("You came 1st and she came 22nd.", "You came first and she came twenty-second."),
        ("It is -5 outside.", "It is minus five outside."),
        ("Humidity is 45%.", "Humidity is forty-five percent."),
        ("Items 1,2,3 are ready.", "Items one,two,three are ready."),
        ("It was built in 1990.", "It was built in nineteen ninety."),
        ("We expect 2000 guests.", "We expect two thousand guests."),
    ],
)
def test_numbers_and_units_are_read_as_words(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Wake me at 7:30.", "Wake me at seven thirty."),
        ("Wake me at 07:05.", "Wake me at seven oh five."),
        ("Wake me at 7:00.", "Wake me at seven o'clock."),
        ("The train leaves at 14:00.", "The train leaves at two p.m."),
        ("The train leaves at 14:45 today.", "The train leaves at two forty-five p.m. today."),
        ("Call me at 3 pm.", "Call me at three p.m."),
        ("Call me at 3:15 PM please.", "Call me at three fifteen p.m. please."),
        ("It ends at 00:30.", "It ends at twelve thirty a.m."),
    ],
)
def test_times_are_read_on_a_twelve_hour_clock(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken", "day_first"),
    [
        ("It is due on 2026-11-23.", "It is due on November twenty-third, twenty twenty-six.", False),
        ("It is due on 23/11/2026.", "It is due on November twenty-third, twenty twenty-six.", False),
        ("It is due on 03/04/2026.", "It is due on March fourth, twenty twenty-six.", False),
        ("It is due on 03/04/2026.", "It is due on April third, twenty twenty-six.", True),
    ],
)
def test_dates_are_read_with_month_names(written: str, spoken: str, day_first: bool) -> None:
    assert speakable(written, day_first=day_first) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("It costs $5.", "It costs five dollars."),
        ("It costs $1.", "It costs one dollar."),
        ("A coffee is €3.50.", "A coffee is three euros and fifty cents."),
        ("A coffee is 3 €.", "A coffee is three euros."),
        ("Tickets are £12.", "Tickets are twelve pounds."),
    ],
)
def test_money_is_read_with_its_currency(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("## Weather today", "Weather today"),
        ("It is **really** *very* _quite_ warm.", "It is really very quite warm."),
        ("Run `make test` first.", "Run make test first."),
        ("Read [the guide](https://example.com/guide) first.", "Read the guide first."),
        ("Shopping:\n- milk\n- eggs\n1. bread", "Shopping: milk. eggs. bread."),
        ("Here it is:\n```python\nprint(1)\n```\nDone.", "Here it is: Done."),
        ("> Quoted words.", "Quoted words."),
    ],
)
def test_markdown_is_reduced_to_its_words(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


def test_emoji_are_dropped() -> None:
    assert speakable("Great news 🎉🎉! Well done 👍🏽.") == "Great news! Well done."


def test_a_bare_url_is_called_a_link() -> None:
    assert speakable("Details are at https://example.com/a?b=1. Enjoy!") == "Details are at a link. Enjoy!"


def test_text_without_numbers_or_markup_is_unchanged() -> None:
    text = "Sure, I can help with that. What would you like to know?"
    assert speakable(text) == text


def test_another_language_gets_its_numbers_read_in_that_language() -> None:
    assert speakable("Mam 21 lat.", "pl") == "Mam dwadzieścia jeden lat."


def test_a_language_num2words_does_not_know_keeps_its_numbers() -> None:
    assert speakable("**42** rzeczy", "xx") == "42 rzeczy"
