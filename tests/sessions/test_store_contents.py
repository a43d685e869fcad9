"""Everything else the store keeps, on both backends: sessions' lifecycle, edited and skipped history,
summaries, notes about users, and documents (personas, generated tools)."""

from __future__ import annotations

import pytest

from voxhub.sessions import HistoryMessage, SessionExists, SessionNotFound, Store


async def test_a_session_id_can_be_created_only_once(store: Store) -> None:
    await store.create_session("s1", {}, created_at=100.0)

    with pytest.raises(SessionExists):
        await store.create_session("s1", {}, created_at=101.0)


async def test_messages_for_a_session_that_is_gone_are_refused(store: Store) -> None:
    with pytest.raises(SessionNotFound):
        await store.append_messages("nope", [HistoryMessage("user", "hello", created_at=1.0)])


async def test_a_config_update_replaces_the_config_and_refuses_a_missing_session(store: Store) -> None:
    await store.create_session("s1", {"voice": "anna"}, created_at=100.0)

    await store.update_config("s1", {"voice": "bert", "language": "de"})

    stored = await store.get_session("s1")
    assert stored is not None
    assert stored.config == {"voice": "bert", "language": "de"}
    with pytest.raises(SessionNotFound):
        await store.update_config("nope", {})


async def test_touch_never_moves_activity_backwards(store: Store) -> None:
    await store.create_session("s1", {}, created_at=100.0)

    await store.touch("s1", 200.0)
    await store.touch("s1", 150.0)

    stored = await store.get_session("s1")
    assert stored is not None
    assert stored.last_active_at == 200.0


async def test_expired_sessions_are_those_idle_before_the_cutoff_oldest_first(store: Store) -> None:
    for session_id, at in (("late", 300.0), ("early", 100.0), ("middle", 200.0)):
        await store.create_session(session_id, {}, created_at=at)

    assert await store.expired_sessions(250.0) == ["early", "middle"]


async def test_deleting_a_session_deletes_its_history_and_summary(store: Store) -> None:
    await store.create_session("s1", {}, created_at=100.0)
    await store.append_messages("s1", [HistoryMessage("user", "hello", created_at=101.0)])
    await store.save_summary("s1", "they said hello", 1)

    assert await store.delete_session("s1")

    assert await store.get_session("s1") is None
    assert await store.history("s1") == []
    assert await store.summary("s1") is None
    assert not await store.delete_session("s1")


async def test_a_turns_messages_can_be_rewritten_or_removed(store: Store) -> None:
    await store.create_session("s1", {}, created_at=100.0)
    await store.append_messages(
        "s1",
        [
            HistoryMessage("user", "my pin is 1234", turn_id="t1", created_at=101.0),
            HistoryMessage("assistant", "noted", turn_id="t1", created_at=102.0),
        ],
    )

    assert await store.rewrite_messages("s1", "t1", "user", "my pin is [redacted]") == 1
    assert await store.rewrite_messages("s1", "t1", "assistant", None) == 1

    assert [(m.role, m.content) for m in await store.history("s1")] == [("user", "my pin is [redacted]")]


async def test_history_after_skips_the_summarised_messages_and_keeps_the_latest(store: Store) -> None:
    await store.create_session("s1", {}, created_at=100.0)
    await store.append_messages(
        "s1", [HistoryMessage("user", str(n), created_at=100.0 + n) for n in range(6)]
    )

    assert [m.content for m in await store.history_after("s1", skip=2, limit=3)] == ["3", "4", "5"]
    assert [m.content for m in await store.history_after("s1", skip=4, limit=10)] == ["4", "5"]
    assert await store.message_count("s1") == 6


async def test_a_new_summary_replaces_the_old_one(store: Store) -> None:
    await store.create_session("s1", {}, created_at=100.0)

    await store.save_summary("s1", "first part", 4)
    await store.save_summary("s1", "first and second part", 8)

    assert await store.summary("s1") == ("first and second part", 8)


async def test_notes_are_kept_per_user_in_the_order_they_were_taken(store: Store) -> None:
    first = await store.add_note("ana", "likes jazz", 10.0)
    await store.add_note("ben", "is vegetarian", 11.0)
    second = await store.add_note("ana", "has a cat", 12.0)

    assert await store.notes("ana") == [(first, "likes jazz", 10.0), (second, "has a cat", 12.0)]
    assert not await store.delete_note("ben", first)  # a note is deleted only by its own user
    assert await store.delete_note("ana", first)
    assert [note for _, note, _ in await store.notes("ana")] == ["has a cat"]


async def test_a_document_is_saved_replaced_listed_and_deleted_by_kind_and_key(store: Store) -> None:
    await store.put_document("persona", "pirate", {"name": "pirate", "personality": "gruff"}, 1.0)
    await store.put_document("persona", "pirate", {"name": "pirate", "personality": "jolly"}, 2.0)
    await store.put_document("persona", "chef", {"name": "chef"}, 3.0)
    await store.put_document("autofunction", "af_000000000001", {"id": "af_000000000001"}, 4.0)

    assert await store.get_document("persona", "pirate") == {"name": "pirate", "personality": "jolly"}
    assert [key for key, _ in await store.list_documents("persona")] == ["chef", "pirate"]
    assert await store.delete_document("persona", "chef")
    assert not await store.delete_document("persona", "chef")
    assert await store.get_document("persona", "chef") is None
    assert [key for key, _ in await store.list_documents("autofunction")] == ["af_000000000001"]
