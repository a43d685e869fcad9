"""The offline agent answers what it recognizes with no language model and no Home Assistant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest

from voxhub.agent.offline import OfflineAgent
from voxhub.agent.tools.timers import TimerService

MONDAY_EVENING = datetime(2026, 11, 23, 19, 5, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture(scope="module")
async def agent() -> AsyncIterator[OfflineAgent]:
    """An agent without Home Assistant, whose clock reads Monday 23 November 2026, 7:05 PM."""
    agent = await OfflineAgent.load(clock=lambda: MONDAY_EVENING)
    yield agent
    await agent.aclose()


async def test_tells_the_time_without_home_assistant(agent: OfflineAgent) -> None:
    reply = await agent.handle("what time is it?")

    assert reply is not None
    assert reply.text == "It's 7:05 PM."
    assert reply.intent == "HassGetCurrentTime"
    assert reply.success


async def test_tells_the_date_without_home_assistant(agent: OfflineAgent) -> None:
    reply = await agent.handle("what's the date today")

    assert reply is not None
    assert reply.text == "Today is Monday, November 23, 2026."
    assert reply.success


async def test_leaves_what_it_does_not_recognize_to_the_language_model(agent: OfflineAgent) -> None:
    assert await agent.handle("tell me a joke about penguins") is None


async def test_says_it_has_no_home_assistant_to_a_device_command_without_one(agent: OfflineAgent) -> None:
    reply = await agent.handle("turn on the kitchen light")

    assert reply is not None
    assert reply.text == "I'm not connected to Home Assistant, so I can't check or control your home."
    assert reply.intent == "VoxhubHomeNotConnected"


async def test_leaves_languages_it_has_no_replies_for_to_the_language_model(agent: OfflineAgent) -> None:
    assert await agent.handle("wie spät ist es", language="de") is None


async def test_answers_the_time_when_the_language_model_is_down(agent: OfflineAgent) -> None:
    reply = await agent.fallback_reply("what time is it", "the LLM timed out")

    assert reply.text == "It's 7:05 PM."


async def test_apologizes_for_the_language_model_when_it_cannot_answer_alone(agent: OfflineAgent) -> None:
    reply = await agent.fallback_reply("write me a poem about autumn", "the LLM timed out")

    assert reply.text == "I can't reach my language model right now, but I can still tell the time."
    assert not reply.success
    assert reply.error is not None
    assert reply.error.code == "llm_unavailable"


@pytest.fixture
async def timers() -> AsyncIterator[TimerService]:
    service = TimerService()
    yield service
    await service.aclose()


async def test_sets_a_named_timer(timers: TimerService) -> None:
    agent = await OfflineAgent.load(timers=timers)

    reply = await agent.handle("set a 5 minute pizza timer")

    assert reply is not None
    assert reply.text == "Your pizza timer is set for 5 minutes."
    assert [(t.name, t.duration_secs) for t in timers.timers()] == [("pizza", 300.0)]


async def test_cancels_the_only_timer_without_its_name(timers: TimerService) -> None:
    agent = await OfflineAgent.load(timers=timers)
    await agent.handle("set a timer for 1 hour and 30 minutes")

    reply = await agent.handle("cancel the timer")

    assert reply is not None
    assert reply.text == "Cancelled your 1 hour 30 minute timer."
    assert timers.timers() == ()


async def test_says_so_when_there_is_no_timer_to_cancel(timers: TimerService) -> None:
    agent = await OfflineAgent.load(timers=timers)

    reply = await agent.handle("cancel my timer")

    assert reply is not None
    assert reply.text == "You have no timers running."
    assert not reply.success
