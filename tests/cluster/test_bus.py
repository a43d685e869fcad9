"""The event bus on one instance (no Redis): filters, and what a subscriber that falls behind loses."""

from __future__ import annotations

from voxhub.api.cluster.bus import EventBus


def event(kind: str, session: str, n: int = 0) -> dict[str, object]:
    return {"type": kind, "session_id": session, "data": {"n": n}}


async def test_a_subscriber_gets_only_its_session_and_types() -> None:
    bus = EventBus("here")
    async with bus.subscribe("s1", ["response"]) as subscription:
        bus.publish(event("response", "s2"))
        bus.publish(event("transcript", "s1"))
        bus.publish(event("response", "s1", 7))
        assert subscription.queue.qsize() == 1
        assert (await subscription.queue.get())["data"] == {"n": 7}


async def test_audio_and_pongs_are_not_events() -> None:
    bus = EventBus("here")
    async with bus.subscribe() as subscription:
        bus.publish(event("tts_chunk", "s1"))
        bus.publish(event("pong", "s1"))
        bus.publish(event("response", "s1"))
        assert [subscription.queue.get_nowait()["type"]] == ["response"]
        assert subscription.queue.empty()


async def test_a_subscriber_that_falls_behind_loses_the_oldest_and_is_told_how_many() -> None:
    bus = EventBus("here")
    async with bus.subscribe() as subscription:
        limit = subscription.queue.maxsize
        for n in range(limit + 3):
            bus.publish(event("response", "s1", n))
        assert subscription.dropped == 3
        assert subscription.queue.get_nowait()["data"] == {"n": 3}


async def test_an_ended_subscription_gets_nothing_more() -> None:
    bus = EventBus("here")
    async with bus.subscribe() as subscription:
        pass
    bus.publish(event("response", "s1"))
    assert subscription.queue.empty()
