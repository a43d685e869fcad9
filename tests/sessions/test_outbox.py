"""The webhook outbox on both backends: rows in the order written, per receiver, until marked delivered."""

from __future__ import annotations

from voxhub.sessions.outbox import Outbox
from voxhub.sessions.store import open_store

HOOK = "http://receiver/hook"
OTHER = "http://other/hook"


async def test_undelivered_rows_come_back_oldest_first_after_the_store_is_reopened(database_url: str) -> None:
    store = await open_store(database_url)
    outbox = Outbox(store)
    for n in range(3):
        await outbox.add(f"e{n}", "alpha", {"n": n}, [HOOK, OTHER], at=100.0 + n)
    await store.close()

    store = await open_store(database_url)
    rows = await Outbox(store).pending(HOOK)
    await store.close()

    assert [(row.event_id, row.session_id, row.body) for row in rows] == [
        ("e0", "alpha", {"n": 0}),
        ("e1", "alpha", {"n": 1}),
        ("e2", "alpha", {"n": 2}),
    ]


async def test_a_delivered_row_leaves_only_its_own_receivers_queue(database_url: str) -> None:
    store = await open_store(database_url)
    outbox = Outbox(store)
    await outbox.add("e0", "alpha", {"n": 0}, [HOOK, OTHER], at=100.0)
    [row] = await outbox.pending(HOOK)
    await outbox.failed(row.seq)
    await outbox.delivered(row.seq, at=101.0)

    assert await outbox.pending(HOOK) == []
    assert [row.event_id for row in await outbox.pending(OTHER)] == ["e0"]
    assert await outbox.targets() == [OTHER]
    assert await outbox.prune(delivered_before=102.0) == 1
    await store.close()


async def test_one_instance_at_a_time_holds_a_receivers_lease_until_it_expires_or_is_released(
    database_url: str,
) -> None:
    store = await open_store(database_url)
    outbox = Outbox(store)

    taken = [
        await outbox.lease(HOOK, "a", now=100.0, ttl_secs=30.0),
        await outbox.lease(HOOK, "b", now=110.0, ttl_secs=30.0),  # a holds it
        await outbox.lease(HOOK, "a", now=120.0, ttl_secs=30.0),  # renewed, to 150
        await outbox.lease(HOOK, "b", now=140.0, ttl_secs=30.0),
        await outbox.lease(HOOK, "b", now=151.0, ttl_secs=30.0),  # a stopped renewing: taken over
        await outbox.lease(HOOK, "a", now=152.0, ttl_secs=30.0),
        await outbox.lease(OTHER, "a", now=152.0, ttl_secs=30.0),  # each receiver its own lease
    ]
    await outbox.release(HOOK, "b")
    after_release = await outbox.lease(HOOK, "a", now=153.0, ttl_secs=30.0)
    await store.close()

    assert taken == [True, False, True, False, True, False, True]
    assert after_release
