"""The store on both backends: history and profiles that outlive the process, commits visible at once;
SQLite in WAL mode and upgraded from older versions."""

from __future__ import annotations

import sqlite3

from voxhub.config import Settings
from voxhub.engines.llm.base import ToolCall
from voxhub.sessions import HistoryMessage, Profile, SessionStore, Store, open_store
from voxhub.sessions.store import LATEST


async def test_the_sqlite_database_is_in_wal_mode_at_the_latest_version(settings: Settings) -> None:
    store = await SessionStore.open(settings.sqlite_path)
    other = sqlite3.connect(settings.sqlite_path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert other.execute("SELECT version FROM schema_version").fetchall() == [(LATEST,)]
    finally:
        other.close()
        await store.close()


async def test_history_survives_reopening_the_store(database_url: str) -> None:
    first = await open_store(database_url)
    await first.create_session("s1", {"language": "de"}, created_at=100.0)
    await first.append_messages(
        "s1",
        [
            HistoryMessage("user", "Wie spät ist es?", turn_id="t1", created_at=101.0),
            HistoryMessage("assistant", "Es ist drei", turn_id="t1", interrupted=True, created_at=102.0),
        ],
    )
    await first.close()

    reopened = await open_store(database_url)
    try:
        stored = await reopened.get_session("s1")
        assert stored is not None
        assert stored.config == {"language": "de"}
        assert [(m.role, m.content, m.interrupted) for m in await reopened.history("s1")] == [
            ("user", "Wie spät ist es?", False),
            ("assistant", "Es ist drei", True),
        ]
    finally:
        await reopened.close()


async def test_an_appended_turn_is_readable_at_once_from_a_second_connection(
    store: Store, database_url: str
) -> None:
    reader = await open_store(database_url)
    try:
        await store.create_session("s1", {}, created_at=100.0)
        await store.append_messages("s1", [HistoryMessage("user", "hello", created_at=101.0)])
        assert [m.content for m in await reader.history("s1")] == ["hello"]
    finally:
        await reader.close()


async def test_history_limit_keeps_the_latest_messages_oldest_first(store: Store) -> None:
    await store.create_session("s1", {}, created_at=100.0)
    await store.append_messages(
        "s1", [HistoryMessage("user", str(n), created_at=100.0 + n) for n in range(5)]
    )

    assert [m.content for m in await store.history("s1", limit=2)] == ["3", "4"]


async def test_a_custom_profile_persists_across_reopening(database_url: str) -> None:
    first = await open_store(database_url)
    await first.save_profile(Profile.from_dict("quiet-room", {"vad_threshold": 0.3, "language": "fr"}))
    await first.close()

    reopened = await open_store(database_url)
    try:
        profile = await reopened.get_profile("quiet-room")
        assert profile is not None
        assert (profile.vad_threshold, profile.language, profile.builtin) == (0.3, "fr", False)
        assert [p.name for p in await reopened.list_profiles()] == ["quiet-room"]
    finally:
        await reopened.close()


async def test_tool_calls_and_results_come_back_from_the_store(database_url: str) -> None:
    call = ToolCall("call_1", "turn_on", '{"entity": "light.kitchen"}')
    store = await open_store(database_url)
    await store.create_session("s1", {}, 0.0)
    await store.append_messages(
        "s1",
        [
            HistoryMessage("assistant", "", "turn_1", tool_calls=(call,)),
            HistoryMessage("tool", "ok", "turn_1", tool_call_id="call_1"),
        ],
    )

    history = await store.history("s1")
    await store.close()

    assert history[0].tool_calls == (call,)
    assert history[1].tool_call_id == "call_1"


async def test_a_version_1_sqlite_database_is_upgraded_keeping_its_messages(tmp_path) -> None:
    path = tmp_path / "voxhub.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);"
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, config TEXT NOT NULL, created_at REAL NOT NULL,"
        " last_active_at REAL NOT NULL);"
        "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, turn_id TEXT, interrupted INTEGER NOT NULL DEFAULT 0,"
        " created_at REAL NOT NULL);"
        "INSERT INTO sessions VALUES ('s1', '{}', 0, 0);"
        "INSERT INTO messages (session_id, role, content, created_at) VALUES ('s1', 'user', 'hello', 0);"
    )
    old.commit()
    old.close()

    store = await SessionStore.open(path)
    history = await store.history("s1")
    await store.close()

    assert [(m.role, m.content) for m in history] == [("user", "hello")]
