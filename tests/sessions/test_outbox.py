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
