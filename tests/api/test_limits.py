"""The connection cap and the control-message rate, counted as a client's requests would be."""

from __future__ import annotations

import pytest

from voxhub.api.errors import ServerBusy
from voxhub.api.limits import RESERVED, TURN, WEBSOCKET, ConnectionTracker, RateLimiter


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_twice_the_rate_passes_then_messages_wait_for_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock)
    assert sum(limiter.allow() for _ in range(25)) == 20
    clock.now += 0.1
    assert limiter.allow()
    assert not limiter.allow()


def test_slots_are_given_back_when_the_block_ends_even_on_error() -> None:
    clock = FakeClock()
    tracker = ConnectionTracker(1, clock=clock)

    def connection_that_fails() -> None:
        with tracker.slot(WEBSOCKET):
            clock.now += 4.0
            raise ValueError("client went away")

    with pytest.raises(ValueError, match="client went away"):
        connection_that_fails()
    with tracker.slot(TURN):
        assert tracker.active_by_kind == {WEBSOCKET: 0, TURN: 1}
    assert tracker.active == 0
    assert tracker.average_duration_secs(WEBSOCKET) == 4.0


def test_a_full_tracker_refuses_with_capacity_details() -> None:
    tracker = ConnectionTracker(3)
    for _ in range(3):
        assert tracker.try_acquire()
    with pytest.raises(ServerBusy) as refused, tracker.slot():
        pass
    assert refused.value.details["capacity_usage"] == "100.0%"
    assert (tracker.total, tracker.peak, tracker.rejected) == (3, 3, 1)


def test_a_reservation_nobody_claims_gives_its_slot_back_when_the_lease_ends() -> None:
    clock = FakeClock()
    tracker = ConnectionTracker(1, clock=clock)
    reservation = tracker.reserve(lease_secs=10.0)
    assert reservation is not None
    assert not tracker.try_acquire()

    clock.now += 10.0

    assert tracker.capacity()["active_connections"] == 0
    assert not tracker.claim(reservation)
    assert tracker.try_acquire()


def test_a_claimed_reservation_becomes_the_connection_slot() -> None:
    clock = FakeClock()
    tracker = ConnectionTracker(1, clock=clock)
    reservation = tracker.reserve(lease_secs=10.0)
    assert reservation is not None

    assert tracker.claim(reservation)
    clock.now += 60.0

    assert tracker.active == 1
    assert tracker.active_by_kind == {RESERVED: 0, WEBSOCKET: 1}
    assert tracker.reserve(lease_secs=10.0) is None
