"""Named timers, cancelling them by name, the time left, and where a finished timer rings — on a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from voxhub.agent.offline import OfflineAgent
from voxhub.agent.session_timers import SessionTimers
from voxhub.agent.tools.timers import Timer, TimerService


class VirtualClock:
    """Time that moves only when a test says so; `sleep` returns once `advance` passes its deadline."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, wake))
        await wake

    async def advance(self, seconds: float) -> None:
        await asyncio.sleep(0)  # timers started just now reach their sleep first
        self.now += seconds
        for due, wake in list(self._sleepers):
            if due <= self.now and not wake.done():
                wake.set_result(None)
                self._sleepers.remove((due, wake))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def timers(clock: VirtualClock) -> AsyncIterator[TimerService]:
    service = TimerService(clock=clock.time, sleep=clock.sleep)
    yield service
    await service.aclose()


@pytest.fixture(scope="module")
async def agent() -> AsyncIterator[OfflineAgent]:
    agent = await OfflineAgent.load()
    yield agent
    await agent.aclose()


async def _say(agent: OfflineAgent, text: str, timers: TimerService) -> str:
    reply = await agent.handle(text, timers=timers)
    assert reply is not None, text
    return reply.text


async def test_a_named_timer_is_set_for_its_duration(agent: OfflineAgent, timers: TimerService) -> None:
    said = await _say(agent, "Set a timer for 45 minutes for the roast chicken", timers)

    assert said == "Your roast chicken timer is set for 45 minutes."
    assert [(t.name, t.duration_secs) for t in timers.timers()] == [("roast chicken", 2700.0)]


async def test_a_timer_is_cancelled_by_its_name_and_the_others_keep_running(
    agent: OfflineAgent, timers: TimerService
) -> None:
    await _say(agent, "Set a timer for 45 minutes for the roast chicken", timers)
    await _say(agent, "set a 10 minute pasta timer", timers)

    said = await _say(agent, "cancel the roast chicken timer", timers)

    assert said == "Cancelled your roast chicken timer."
    assert [t.name for t in timers.timers()] == ["pasta"]


async def test_how_much_time_is_left_reads_the_clock(
    agent: OfflineAgent, timers: TimerService, clock: VirtualClock
) -> None:
    await _say(agent, "Set a timer for 45 minutes for the roast chicken", timers)
    await clock.advance(15 * 60)

    said = await _say(agent, "how much time is left", timers)

    assert said == "Your roast chicken timer has 30 minutes left."


async def test_time_left_on_a_named_timer_among_several(
    agent: OfflineAgent, timers: TimerService, clock: VirtualClock
) -> None:
    await _say(agent, "Set a timer for 45 minutes for the roast chicken", timers)
    await _say(agent, "set a 10 minute pasta timer", timers)
    await clock.advance(60)

    said = await _say(agent, "how much time is left on the roast chicken timer", timers)
    both = await _say(agent, "how much time is left", timers)

    assert said == "Your roast chicken timer has 44 minutes left."
    assert (
        both
        == "You have 2 timers: your pasta timer has 9 minutes left, your roast chicken timer has 44 minutes left."
    )


async def test_asking_about_a_timer_that_is_not_running_says_so(
    agent: OfflineAgent, timers: TimerService
) -> None:
    assert await _say(agent, "how much time is left", timers) == "You have no timers running."


async def test_a_finished_timer_rings_on_every_open_conversation_of_its_session(clock: VirtualClock) -> None:
    sessions = SessionTimers(clock=clock.time, sleep=clock.sleep)
    heard: list[tuple[str, str]] = []
    rang = asyncio.Event()

    def listener(who: str):  # type: ignore[no-untyped-def]
        async def ring(timer: Timer) -> None:
            heard.append((who, timer.announcement))
            if len(heard) == 2:
                rang.set()

        return ring

    sessions.attach("kitchen", listener("phone"))
    sessions.attach("kitchen", listener("speaker"))
    sessions.attach("office", listener("office"))
    sessions.of("kitchen").start(60, "eggs")
    await clock.advance(60)
    await asyncio.wait_for(rang.wait(), 5)

    assert sorted(heard) == [("phone", "Your eggs timer is done."), ("speaker", "Your eggs timer is done.")]
    await sessions.aclose()


async def test_a_timer_set_by_a_one_shot_turn_outlives_it_and_rings_the_notifier(clock: VirtualClock) -> None:
    notified: list[str] = []
    rang = asyncio.Event()

    async def notify(timer: Timer) -> None:
        notified.append(timer.announcement)
        rang.set()

    sessions = SessionTimers(notify, clock=clock.time, sleep=clock.sleep)
    detach = sessions.attach("rest", lambda timer: asyncio.sleep(0))
    sessions.of("rest").start(300, "tea")
    await detach()  # the REST turn's conversation closed
    await clock.advance(300)
    await asyncio.wait_for(rang.wait(), 5)

    assert notified == ["Your tea timer is done."]
    await sessions.aclose()


async def test_a_deleted_sessions_timers_never_ring(clock: VirtualClock) -> None:
    rang: list[str] = []
    other_rang = asyncio.Event()

    async def notify(timer: Timer) -> None:
        rang.append(timer.label)
        if timer.name == "other":
            other_rang.set()

    sessions = SessionTimers(notify, clock=clock.time, sleep=clock.sleep)
    sessions.of("deleted").start(60, "gone")
    sessions.of("kept").start(60, "other")
    await sessions.drop("deleted")
    await clock.advance(60)
    await asyncio.wait_for(other_rang.wait(), 5)

    assert rang == ["other timer"]
    await sessions.aclose()
