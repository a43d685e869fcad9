"""Cluster slots and session leases in a real Redis, with time moved by the test (the Lua scripts compare
lease ends with the time the instance passes in)."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import FakeClock
from voxhub.api.clients import CLIENT_ADDRESS
from voxhub.api.cluster.link import RedisLink
from voxhub.api.cluster.registry import SessionRegistry
from voxhub.api.cluster.slots import ClusterRates, ClusterSlots
from voxhub.api.errors import TooManyRequests
from voxhub.api.limits import ConnectionTracker

pytestmark = pytest.mark.cluster
LEASE = 10.0


def slots(link: RedisLink, clock: FakeClock, instance: str, cap: int = 2) -> ClusterSlots:
    return ClusterSlots(link, instance, cap, LEASE, clock=clock)


async def test_the_cap_is_shared_by_every_instance(link: RedisLink, clock: FakeClock) -> None:
    a, b = slots(link, clock, "a"), slots(link, clock, "b")
    assert (await a.acquire()).taken
    assert (await b.acquire()).taken
    refused = await a.acquire()
    assert (refused.taken, refused.used) == (False, 2)


async def test_a_released_slot_is_free_at_once(link: RedisLink, clock: FakeClock) -> None:
    a, b = slots(link, clock, "a"), slots(link, clock, "b")
    first = await a.acquire()
    await b.acquire()
    await a.release(first.member)
    assert (await b.acquire()).taken
    assert a.held == 0


async def test_slots_of_an_instance_that_stops_renewing_lapse_after_one_lease(
    link: RedisLink, clock: FakeClock
) -> None:
    dead, alive = slots(link, clock, "dead"), slots(link, clock, "alive")
    await dead.acquire()
    await dead.acquire()
    clock.advance(LEASE - 0.5)
    assert not (await alive.acquire()).taken  # still within the dead instance's lease
    clock.advance(1.0)
    assert (await alive.acquire()).taken
    assert await alive.in_use() == 1


async def test_renewed_slots_outlive_many_leases(link: RedisLink, clock: FakeClock) -> None:
    a, b = slots(link, clock, "a"), slots(link, clock, "b")
    await a.acquire()
    await a.acquire()
    for _ in range(10):
        clock.advance(LEASE / 3)
        await a.renew()
    assert not (await b.acquire()).taken
    assert await b.in_use() == 2


async def test_renewal_adds_back_slots_redis_forgot(link: RedisLink, clock: FakeClock) -> None:
    a = slots(link, clock, "a")
    await a.acquire()
    await link.client.delete(link.key("slots"))  # as after a Redis restart without persistence
    assert await a.renew() == 1


async def test_a_client_spends_one_budget_on_every_instance(link: RedisLink, clock: FakeClock) -> None:
    a = ClusterRates(link, per_minute=60, burst=2, clock=clock)
    b = ClusterRates(link, per_minute=60, burst=2, clock=clock)
    assert await a.retry_after_secs("10.0.0.1") is None
    assert await b.retry_after_secs("10.0.0.1") is None
    assert await a.retry_after_secs("10.0.0.1") == pytest.approx(1.0)
    assert await b.retry_after_secs("10.0.0.2") is None  # another client has its own budget
    clock.advance(1.0)
    assert await b.retry_after_secs("10.0.0.1") is None


async def test_a_session_opened_on_a_second_instance_moves_there(link: RedisLink) -> None:
    a, b = SessionRegistry(link, "a", LEASE), SessionRegistry(link, "b", LEASE)
    closed: list[str] = []
    assert await a.claim("s1", lambda: closed.append("a")) is None
    assert await b.claim("s1", lambda: closed.append("b")) == "a"
    await a.renew()  # a learns it lost the session even without the notice on its channel
    assert closed == ["a"]
    assert a.sessions() == []
    assert b.sessions() == ["s1"]


async def test_a_second_connection_on_the_same_instance_moves_the_session(link: RedisLink) -> None:
    a = SessionRegistry(link, "a", LEASE)
    closed: list[str] = []
    first = lambda: closed.append("first")  # noqa: E731
    await a.claim("s1", first)
    await a.claim("s1", lambda: closed.append("second"))
    await a.release("s1", first)  # the moved connection ends: the session stays registered
    assert closed == ["first"]
    assert await link.client.get(link.key("session", "s1")) == b"a"


async def test_a_closed_session_leaves_the_registry(link: RedisLink) -> None:
    a = SessionRegistry(link, "a", LEASE)
    holder = lambda: None  # noqa: E731
    await a.claim("s1", holder)
    await a.release("s1", holder)
    assert await link.client.get(link.key("session", "s1")) is None


async def test_a_session_entry_lapses_with_its_lease(link: RedisLink) -> None:
    a = SessionRegistry(link, "a", 1.0)
    await a.claim("s1", lambda: None)
    ttl_ms = await link.client.pttl(link.key("session", "s1"))
    assert 0 < ttl_ms <= 1000


async def test_a_turn_over_the_shared_budget_is_refused_with_its_wait(
    link: RedisLink, clock: FakeClock
) -> None:
    rates = ClusterRates(link, per_minute=60, burst=1, clock=clock)
    tracker = ConnectionTracker(4)
    tracker.shared_rates = rates.retry_after_secs
    token = CLIENT_ADDRESS.set("10.0.0.9")
    try:
        async with tracker.turn_slot():
            assert tracker.active == 1
        with pytest.raises(TooManyRequests) as refused:
            async with tracker.turn_slot():
                pass
    finally:
        CLIENT_ADDRESS.reset(token)
    assert refused.value.details["retry_after_secs"] == pytest.approx(1.0)
    assert tracker.active == 0
