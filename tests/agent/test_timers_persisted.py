"""Timers kept in the session store outlive a restart, on SQLite and PostgreSQL — on a virtual clock.

A restart is a `SessionTimers` closed and a new one made on the same store, as `Assistant.load` does.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.agent.test_timers_everywhere import server_and_socket
from tests.agent.test_timers_offline import VirtualClock
from tests.sessions.conftest import database_url, postgres_url  # noqa: F401  (fixtures)
from voxhub.agent.session_timers import CLAIM_GRACE_SECS, RESCAN_SECS, SessionTimers
from voxhub.agent.tools.timers import Timer
from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.sessions import Store, open_store
from voxhub.sessions.timer_store import TimerStore


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:  # noqa: F811
    opened = await open_store(database_url)
    yield opened
    await opened.close()


class Rings:
    """Every announcement heard, and an event per count reached."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        self.changed = asyncio.Event()

    async def __call__(self, timer: Timer) -> None:
        self.heard.append(timer.announcement)
        self.changed.set()

    async def reach(self, count: int) -> None:
        while len(self.heard) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)


def _timers(store: Store, clock: VirtualClock, notify: Rings | None = None) -> SessionTimers:
    return SessionTimers(notify, store=TimerStore(store), clock=clock.time, sleep=clock.sleep)


async def _set_then_stop(store: Store, clock: VirtualClock, secs: float, name: str) -> None:
    """A timer set on an instance that then stops (its rows stay)."""
    before = _timers(store, clock)
    before.of("kitchen").start(secs, name)
    await before.aclose()


async def test_a_timer_outlives_a_restart_with_the_time_it_had_left(
    store: Store, clock: VirtualClock
) -> None:
    await _set_then_stop(store, clock, 600, "pasta")
    await clock.advance(200)

    after = _timers(store, clock)
    assert await after.restore() == 1
    (timer,) = after.of("kitchen").timers()
    assert (timer.name, after.of("kitchen").remaining_secs(timer)) == ("pasta", 400.0)
    rings = Rings()
    after.attach("kitchen", rings)
    await clock.advance(400)
    await rings.reach(1)
    await after.settle()

    assert rings.heard == ["Your pasta timer is done."]
    assert await TimerStore(store).all() == []
    await after.aclose()


async def test_a_restored_timer_keeps_its_id_and_new_ones_are_numbered_after_it(
    store: Store, clock: VirtualClock
) -> None:
    await _set_then_stop(store, clock, 600, "pasta")

    after = _timers(store, clock)
    await after.restore()
    tea = after.of("kitchen").start(60, "tea")

    assert [t.id for t in after.of("kitchen").timers()] == ["2", "1"]
    assert tea.id == "2"
    await after.aclose()


async def test_a_cancelled_timer_is_gone_from_the_store(store: Store, clock: VirtualClock) -> None:
    timers = _timers(store, clock)
    timers.of("kitchen").start(600, "pasta")
    timers.of("kitchen").start(900, "rice")
    await timers.flush()
    timers.of("kitchen").cancel("pasta")
    await timers.flush()

    assert [t.name for t in await TimerStore(store).all()] == ["rice"]
    await timers.aclose()


async def test_a_deleted_sessions_timers_are_gone_from_the_store(store: Store, clock: VirtualClock) -> None:
    timers = _timers(store, clock)
    timers.of("kitchen").start(600, "pasta")
    timers.of("office").start(600, "call")
    await timers.drop("kitchen")

    assert [t.session_id for t in await TimerStore(store).all()] == ["office"]
    await timers.aclose()


async def test_a_timer_that_ran_out_while_voxhub_was_down_rings_once_at_restore(
    store: Store, clock: VirtualClock
) -> None:
    await _set_then_stop(store, clock, 60, "eggs")
    await clock.advance(300)  # voxhub was down when it ran out

    notified = Rings()
    after = _timers(store, clock, notified)
    await after.restore()
    await clock.advance(CLAIM_GRACE_SECS)  # no instance has a conversation of the session open
    await notified.reach(1)  # Home Assistant hears it then
    await after.settle()
    phone, speaker = Rings(), Rings()
    after.attach("kitchen", phone)  # the first conversation to open hears it
    await phone.reach(1)
    after.attach("kitchen", speaker)
    await after.settle()

    assert notified.heard == phone.heard == ["Your eggs timer is done."]
    assert speaker.heard == []
    assert await TimerStore(store).all() == []
    await after.aclose()

    again = _timers(store, clock, notified)  # and a second restart has nothing left to ring
    assert await again.restore() == 0
    await again.aclose()


@pytest.fixture
async def two_instances(postgres_url: str) -> AsyncIterator[tuple[Store, Store]]:  # noqa: F811
    from tests.sessions.conftest import empty_postgres

    empty_postgres(postgres_url)
    first, second = await open_store(postgres_url), await open_store(postgres_url)
    yield first, second
    await first.close()
    await second.close()


async def test_two_instances_on_one_postgresql_store_ring_a_restored_timer_once(
    two_instances: tuple[Store, Store], clock: VirtualClock
) -> None:
    first, second = two_instances
    await _set_then_stop(first, clock, 60, "eggs")  # a third instance set it, then died

    notified = Rings()
    instances = [_timers(first, clock, notified), _timers(second, clock, notified)]
    assert [await timers.restore() for timers in instances] == [1, 1]
    await clock.advance(60)
    await clock.advance(CLAIM_GRACE_SECS)  # neither has a conversation of the session open
    await notified.reach(1)
    for timers in instances:
        await timers.settle()

    assert notified.heard == ["Your eggs timer is done."]
    assert await TimerStore(first).all() == []
    for timers in instances:
        await timers.aclose()


async def test_of_two_instances_the_one_with_the_sessions_socket_rings_a_restored_timer(
    two_instances: tuple[Store, Store], clock: VirtualClock
) -> None:
    first, second = two_instances
    await _set_then_stop(first, clock, 60, "eggs")
    elsewhere, notified = Rings(), Rings()
    other = _timers(first, clock, notified)
    assert await other.restore() == 1  # restored first, so it would claim first
    holder = _timers(second, clock, notified)
    assert await holder.restore() == 1
    socket = Rings()
    holder.attach("kitchen", socket)  # the session's socket is on this instance
    other.attach("office", elsewhere)

    await clock.advance(60)
    await socket.reach(1)
    await holder.settle()
    await clock.advance(CLAIM_GRACE_SECS)
    await other.settle()

    assert socket.heard == notified.heard == ["Your eggs timer is done."]
    assert elsewhere.heard == []
    for timers in (other, holder):
        await timers.aclose()


@pytest.mark.slow
async def test_a_timer_set_over_rest_is_still_running_after_the_server_restarts(
    session_settings: Settings, engine_pool: EnginePool, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    async with server_and_socket(session_settings, engine_pool, data) as (http, _socket, session):
        set_it = {"text": "set a 2 hour pasta timer", "session_id": session}
        assert (await http.post("/offline/chat", json=set_it)).json()["response"] == (
            "Your pasta timer is set for 2 hours."
        )

    async with server_and_socket(session_settings, engine_pool, data) as (http, _socket, _other):
        ask = {"text": "how much time is left on the pasta timer", "session_id": session}
        answer = (await http.post("/offline/chat", json=ask)).json()["response"]

    # what is left is said to the second: a minute's margin for a slow machine
    assert re.fullmatch(r"Your pasta timer has (2 hours|1 hour 59 minutes( \d+ seconds?)?) left\.", answer), (
        answer
    )


async def test_a_timer_of_an_instance_that_died_rings_on_a_running_one_within_a_rescan(
    two_instances: tuple[Store, Store], clock: VirtualClock
) -> None:
    first, second = two_instances
    survivor_notified = Rings()
    survivor = _timers(second, clock, survivor_notified)
    assert await survivor.restore() == 0  # running before the timer was set
    survivor.rescan_every(RESCAN_SECS)
    await _set_then_stop(first, clock, 120, "roast")  # set on another instance, which then died

    await clock.advance(RESCAN_SECS)
    await survivor.flush()
    for _ in range(100):  # the rescan's store read is real I/O: let it land (5 s at most)
        if survivor.of("kitchen").timers():
            break
        await asyncio.sleep(0.05)
    (timer,) = survivor.of("kitchen").timers()
    await clock.advance(120 - RESCAN_SECS)
    await clock.advance(CLAIM_GRACE_SECS)
    await survivor_notified.reach(1)
    await survivor.settle()

    assert timer.name == "roast"
    assert survivor_notified.heard == ["Your roast timer is done."]
    assert await TimerStore(second).all() == []
    await survivor.aclose()
