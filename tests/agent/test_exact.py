"""Arithmetic, percentages, conversions and dates are answered exactly, with no language model, or not at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest

from voxhub.agent.offline import OfflineAgent
from voxhub.agent.tools.timers import TimerService

# Monday 7 December 2026, 10:30 in the server's time zone.
MONDAY_MORNING = datetime(2026, 12, 7, 10, 30, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture(scope="module")
async def agent() -> AsyncIterator[OfflineAgent]:
    """An agent without Home Assistant, whose clock reads Monday 7 December 2026."""
    agent = await OfflineAgent.load(clock=lambda: MONDAY_MORNING)
    yield agent
    await agent.aclose()


async def answer(agent: OfflineAgent, text: str) -> str | None:
    reply = await agent.handle(text)
    return None if reply is None else reply.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is 17 times 23?", "17 times 23 is 391."),
        ("15 + 27 =", "15 plus 27 is 42."),
        ("What's one hundred divided by four?", "100 divided by 4 is 25."),
        ("What is the square root of eighty-one?", "The square root of 81 is 9."),
        ("what is seventeen times twenty-three", "17 times 23 is 391."),
        ("what's 0.1 plus 0.2", "0.1 plus 0.2 is 0.3."),
        ("what is 2 plus 3 times 4", "2 plus 3 times 4 is 14."),
        ("(2 + 3) * 4", "(2 plus 3) times 4 is 20."),
        ("what is 2 to the power of 10", "2 to the power of 10 is 1,024."),
        ("what's 12 squared", "12 squared is 144."),
        ("what is the cube root of 27", "The cube root of 27 is 3."),
        ("what is 1000 minus one thousand and one", "1,000 minus 1,001 is -1."),
        ("what is 12 divided by 5", "12 divided by 5 is 2.4."),
    ],
)
async def test_arithmetic_is_exact_and_said_back_in_words(
    agent: OfflineAgent, question: str, expected: str
) -> None:
    assert await answer(agent, question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what is 10 divided by 3", "10 divided by 3 is about 3.33."),
        ("what is the square root of 2", "The square root of 2 is about 1.41."),
        ("what is 2 to the power of 100", "2 to the power of 100 is about 1.27 times 10 to the power of 30."),
    ],
)
async def test_an_answer_that_cannot_be_said_exactly_is_rounded_and_says_about(
    agent: OfflineAgent, question: str, expected: str
) -> None:
    assert await answer(agent, question) == expected


async def test_dividing_by_zero_is_refused_plainly(agent: OfflineAgent) -> None:
    assert await answer(agent, "what is 7 divided by zero") == "You can't divide by zero."


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what is 15 percent of 80", "15 percent of 80 is 12."),
        ("20% off 50", "50 with 20 percent off is 40."),
        ("What's 20% off $49.99?", "$49.99 with 20 percent off is $39.99."),
        ("a 15% tip on $42", "15 percent of $42 is $6.30."),
        ("what percent of 80 is 20", "20 is 25 percent of 80."),
        ("increase 200 by 10 percent", "200 plus 10 percent is 220."),
    ],
)
async def test_percentages(agent: OfflineAgent, question: str, expected: str) -> None:
    assert await answer(agent, question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how many feet in a mile", "There are 5,280 feet in a mile."),
        ("convert 5 miles to kilometers", "5 miles is about 8.05 kilometres."),
        ("what's 2.54 cm in inches", "2.54 centimetres is 1 inch."),
        ("how many ounces in a pound", "There are 16 ounces in a pound."),
        ("how many grams in 2.5 kilos", "There are 2,500 grams in 2.5 kilograms."),
        ("how many ounces in a cup", "There are 8 US fluid ounces in a US cup."),
        ("3 gallons in litres", "3 US gallons is about 11.4 litres."),
        ("what's 100 fahrenheit in celsius", "100 degrees Fahrenheit is about 37.8 degrees Celsius."),
        ("20 degrees celsius in fahrenheit", "20 degrees Celsius is 68 degrees Fahrenheit."),
        ("100 km/h in mph", "100 kilometres per hour is about 62.1 miles per hour."),
    ],
)
async def test_unit_conversions(agent: OfflineAgent, question: str, expected: str) -> None:
    assert await answer(agent, question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how many minutes in 3 hours", "There are 180 minutes in 3 hours."),
        ("How many minutes are in an hour?", "There are 60 minutes in an hour."),
        ("how many seconds are there in a day", "There are 86,400 seconds in a day."),
        ("90 minutes in hours", "90 minutes is 1.5 hours."),
    ],
)
async def test_time_conversions(agent: OfflineAgent, question: str, expected: str) -> None:
    assert await answer(agent, question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many days until Christmas?", "There are 18 days until Christmas."),
        ("how many days until new year", "There are 25 days until New Year's Day."),
        ("how many days until halloween", "There are 328 days until Halloween."),
        ("how many weeks until christmas", "Christmas is 2 weeks and 4 days away."),
        ("what day is it", "Today is Monday, December 7, 2026."),
        ("what's the date in 10 days", "In 10 days it will be Thursday, December 17, 2026."),
        ("what was the date 3 days ago", "3 days ago was Friday, December 4, 2026."),
        ("what day of the week is July 4th", "July 4, 2027 is a Sunday."),
        ("what day is christmas", "Christmas is on Friday, December 25, 2026."),
    ],
)
async def test_dates_from_the_servers_local_date(agent: OfflineAgent, question: str, expected: str) -> None:
    assert await answer(agent, question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "what is the capital of France",
        "how many continents are there",
        "how many days are in a leap year",  # a fact, not a conversion
        "what is 20 degrees in fahrenheit",  # 20 degrees of what?
        "how many tons in a pound",  # which ton?
        "what is 9/11",  # an event as often as a fraction
        "what is 5 and 3",
        "what is the sum of five and three",
        "nineteen eighty-four",
        "what is 2024",
        "how many days until my birthday",
    ],
)
async def test_what_it_cannot_read_with_certainty_goes_to_the_language_model(
    agent: OfflineAgent, question: str
) -> None:
    assert await agent.handle(question) is None


async def test_an_exact_answer_is_reported_as_its_own_intent(agent: OfflineAgent) -> None:
    reply = await agent.handle("how many minutes in 3 hours")

    assert reply is not None
    assert reply.intent == "VoxhubExactAnswer"
    assert reply.slots == {"kind": "conversion"}
    assert reply.success


async def test_exact_answers_are_english_only(agent: OfflineAgent) -> None:
    assert await agent.handle("17 times 23", language="de") is None


@pytest.mark.parametrize(
    "command",
    [
        "Turn off all the lights in the kitchen",
        "turn on the kitchen light",
        "is the front door locked",
        "what's the temperature in the living room",
        "open the garage door",
        "set the thermostat to 20",
    ],
)
async def test_without_home_assistant_the_home_is_answered_plainly(agent: OfflineAgent, command: str) -> None:
    reply = await agent.handle(command)

    assert reply is not None
    assert reply.text == "I'm not connected to Home Assistant, so I can't check or control your home."
    assert not reply.success


@pytest.mark.parametrize(
    "question", ["what's the temperature in Paris", "close your eyes", "tell me a joke about lights"]
)
async def test_what_only_sounds_like_the_home_goes_to_the_language_model(
    agent: OfflineAgent, question: str
) -> None:
    assert await agent.handle(question) is None


async def test_a_conversion_that_fits_a_timer_sentence_sets_no_timer() -> None:
    timers = TimerService()
    agent = await OfflineAgent.load(timers=timers)

    reply = await agent.handle("How many minutes in 3 hours?")
    running = timers.timers()
    await timers.aclose()

    assert reply is not None
    assert reply.text == "There are 180 minutes in 3 hours."
    assert running == ()


async def test_asking_for_the_date_keeps_home_assistants_intent(agent: OfflineAgent) -> None:
    reply = await agent.handle("What is the date today?")

    assert reply is not None
    assert reply.intent == "HassGetCurrentDate"


async def test_a_client_with_its_own_home_tools_gets_its_home_commands_back(agent: OfflineAgent) -> None:
    assert await agent.handle("Turn on the kitchen light", home_questions=False) is None
