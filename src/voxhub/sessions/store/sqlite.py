"""The embedded store: SQLite (WAL), behind async methods that never block the loop."""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self, TypeVar

from voxhub.errors import ConfigError
from voxhub.sessions.errors import SessionExists, SessionNotFound
from voxhub.sessions.models import HistoryMessage
from voxhub.sessions.profiles import Profile
from voxhub.sessions.store.base import TABLES_BY_NAME, StoredSession, history_rows, insert_query, page_query
from voxhub.sessions.store.migrations import LATEST, SCHEMA_VERSION_TABLE, pending

T = TypeVar("T")


class SqliteStore:
    """One SQLite connection, used only from one worker thread, so calls are serialized in order."""

    backend = "sqlite"

    def __init__(
        self,
        connection: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        path: Path,
        applied: tuple[int, ...] = (),
    ) -> None:
        self._connection = connection
        self._executor = executor
        self._closed = False
        self._applied = applied
        self.path = path

    @property
    def location(self) -> str:
        return str(self.path)

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (creating if needed) the database at `path`, in WAL mode, with the schema in place."""
        path = Path(path)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voxhub-sqlite")
        try:
            connection, applied = await asyncio.get_running_loop().run_in_executor(executor, _connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(connection, executor, path, tuple(applied))

    async def migrate(self) -> list[int]:
        """The versions applied (SQLite migrates as it opens: those applied then, once)."""
        applied, self._applied = list(self._applied), ()
        return applied

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL); later calls raise RuntimeError."""
        if self._closed:
            return
        await self._run(self._connection.close)
        self._closed = True
        self._executor.shutdown(wait=True)

    async def ping(self) -> None:
        """A trivial query: raises when the database cannot be reached (or the store is closed)."""
        await self._run(lambda: self._connection.execute("SELECT 1").fetchone())

    async def schema_version(self) -> int:
        return await self._run(_version, self._connection)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RuntimeError("the session store is closed")
        call = functools.partial(function, *args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    # sessions

    async def create_session(self, session_id: str, config: dict[str, Any], created_at: float) -> None:
        """Insert a session; raises SessionExists if the id is taken."""
        await self._run(self._create_session, session_id, json.dumps(config), created_at)

    def _create_session(self, session_id: str, config: str, created_at: float) -> None:
        try:
            with self._connection:
                self._connection.execute(
                    "INSERT INTO sessions (id, config, created_at, last_active_at) VALUES (?, ?, ?, ?)",
                    (session_id, config, created_at, created_at),
                )
        except sqlite3.IntegrityError:
            raise SessionExists(
                f"session {session_id!r} already exists", details={"session_id": session_id}
            ) from None

    async def get_session(self, session_id: str) -> StoredSession | None:
        row = await self._run(
            self._fetchone,
            "SELECT id, config, created_at, last_active_at FROM sessions WHERE id = ?",
            (session_id,),
        )
        if row is None:
            return None
        return StoredSession(id=row[0], config=json.loads(row[1]), created_at=row[2], last_active_at=row[3])

    async def update_config(self, session_id: str, config: dict[str, Any]) -> None:
        """Replace a session's config; raises SessionNotFound if it is gone."""
        changed = await self._run(
            self._write, "UPDATE sessions SET config = ? WHERE id = ?", (json.dumps(config), session_id)
        )
        if not changed:
            raise SessionNotFound(f"no session {session_id!r}", details={"session_id": session_id})

    async def touch(self, session_id: str, at: float) -> None:
        """Record activity at `at` (never moving the time backwards)."""
        await self._run(
            self._write,
            "UPDATE sessions SET last_active_at = max(last_active_at, ?) WHERE id = ?",
            (at, session_id),
        )

    async def delete_session(self, session_id: str) -> bool:
        """Delete a session and its history; False if there was none."""
        return await self._run(self._write, "DELETE FROM sessions WHERE id = ?", (session_id,)) > 0

    async def expired_sessions(self, idle_before: float) -> list[str]:
        """Ids of sessions last active before `idle_before`, oldest first."""
        rows = await self._run(
            self._fetchall,
            "SELECT id FROM sessions WHERE last_active_at < ? ORDER BY last_active_at",
            (idle_before,),
        )
        return [row[0] for row in rows]

    # history

    async def append_messages(self, session_id: str, messages: Sequence[HistoryMessage]) -> None:
        """Add messages in one transaction, committed before this returns; SessionNotFound if it is gone."""
        rows = [
            (session_id, m.role, m.content, m.turn_id, int(m.interrupted), m.created_at, m.tool_json())
            for m in messages
        ]
        await self._run(self._append, session_id, rows)

    def _append(self, session_id: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            with self._connection:
                self._connection.executemany(
                    "INSERT INTO messages (session_id, role, content, turn_id, interrupted, created_at,"
                    " tool_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.IntegrityError:
            raise SessionNotFound(f"no session {session_id!r}", details={"session_id": session_id}) from None

    async def history(self, session_id: str, limit: int | None = None) -> list[HistoryMessage]:
        """The session's messages, oldest first; with `limit`, only the most recent `limit` of them."""
        rows = await self._run(
            self._fetchall,
            "SELECT role, content, turn_id, interrupted, created_at, tool_json FROM messages"
            " WHERE session_id = ? ORDER BY id DESC LIMIT ?",
            (session_id, -1 if limit is None else max(limit, 0)),
        )
        return history_rows(rows)

    async def rewrite_messages(self, session_id: str, turn_id: str, role: str, content: str | None) -> int:
        """Set the content of a turn's `role` messages, or delete them if `content` is None; how many."""
        params: tuple[Any, ...]
        if content is None:
            sql, params = "DELETE FROM messages WHERE session_id = ? AND turn_id = ? AND role = ?", ()
        else:
            sql, params = (
                "UPDATE messages SET content = ? WHERE session_id = ? AND turn_id = ? AND role = ?",
                (content,),
            )
        return await self._run(self._write, sql, (*params, session_id, turn_id, role))

    async def history_after(self, session_id: str, skip: int, limit: int) -> list[HistoryMessage]:
        """Messages after the first `skip` of the session, oldest first; at most the last `limit` of them."""
        rows = await self._run(
            self._fetchall,
            "SELECT role, content, turn_id, interrupted, created_at, tool_json FROM"
            " (SELECT * FROM messages WHERE session_id = ? ORDER BY id LIMIT -1 OFFSET ?)"
            " ORDER BY id DESC LIMIT ?",
            (session_id, max(skip, 0), max(limit, 0)),
        )
        return history_rows(rows)

    async def message_count(self, session_id: str) -> int:
        row = await self._run(
            self._fetchone, "SELECT count(*) FROM messages WHERE session_id = ?", (session_id,)
        )
        return int(row[0]) if row else 0

    # summaries of older history, and notes about a user that outlive sessions

    async def save_summary(self, session_id: str, content: str, covered_messages: int) -> None:
        """The summary of the session's first `covered_messages` messages (they stay in history too)."""
        await self._run(
            self._write,
            "INSERT INTO summaries (session_id, content, through_message_id) VALUES (?, ?, ?)"
            " ON CONFLICT (session_id) DO UPDATE SET content = excluded.content,"
            " through_message_id = excluded.through_message_id",
            (session_id, content, covered_messages),
        )

    async def summary(self, session_id: str) -> tuple[str, int] | None:
        """(summary, how many of the first messages it covers), if the session has one."""
        row = await self._run(
            self._fetchone,
            "SELECT content, through_message_id FROM summaries WHERE session_id = ?",
            (session_id,),
        )
        return None if row is None else (str(row[0]), int(row[1]))

    async def add_note(self, user_id: str, content: str, created_at: float) -> int:
        return await self._run(
            self._insert,
            "INSERT INTO user_notes (user_id, content, created_at) VALUES (?, ?, ?)",
            (user_id, content, created_at),
        )

    async def notes(self, user_id: str) -> list[tuple[int, str, float]]:
        """(id, note, created_at) of everything remembered about `user_id`, oldest first."""
        rows = await self._run(
            self._fetchall,
            "SELECT id, content, created_at FROM user_notes WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [(int(r[0]), str(r[1]), float(r[2])) for r in rows]

    async def delete_note(self, user_id: str, note_id: int) -> bool:
        deleted = await self._run(
            self._write, "DELETE FROM user_notes WHERE user_id = ? AND id = ?", (user_id, note_id)
        )
        return deleted > 0

    # profiles

    async def save_profile(self, profile: Profile) -> None:
        """Insert or replace a custom profile."""
        await self._run(
            self._write,
            "INSERT INTO profiles (name, data) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET data = excluded.data",
            (profile.name, json.dumps(profile.to_dict())),
        )

    async def get_profile(self, name: str) -> Profile | None:
        row = await self._run(self._fetchone, "SELECT name, data FROM profiles WHERE name = ?", (name,))
        return None if row is None else Profile.from_dict(row[0], json.loads(row[1]))

    async def list_profiles(self) -> list[Profile]:
        rows = await self._run(self._fetchall, "SELECT name, data FROM profiles ORDER BY name", ())
        return [Profile.from_dict(name, json.loads(data)) for name, data in rows]

    async def delete_profile(self, name: str) -> bool:
        return await self._run(self._write, "DELETE FROM profiles WHERE name = ?", (name,)) > 0

    # documents

    async def put_document(self, kind: str, key: str, data: dict[str, Any], updated_at: float) -> None:
        await self._run(
            self._write,
            "INSERT INTO documents (kind, key, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, key)"
            " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (kind, key, json.dumps(data), updated_at),
        )

    async def get_document(self, kind: str, key: str) -> dict[str, Any] | None:
        row = await self._run(
            self._fetchone, "SELECT data FROM documents WHERE kind = ? AND key = ?", (kind, key)
        )
        return None if row is None else dict(json.loads(row[0]))

    async def list_documents(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        rows = await self._run(
            self._fetchall, "SELECT key, data FROM documents WHERE kind = ? ORDER BY key", (kind,)
        )
        return [(str(key), dict(json.loads(data))) for key, data in rows]

    async def delete_document(self, kind: str, key: str) -> bool:
        deleted = await self._run(
            self._write, "DELETE FROM documents WHERE kind = ? AND key = ?", (kind, key)
        )
        return deleted > 0

    # whole tables

    async def count_rows(self, table: str) -> int:
        spec = TABLES_BY_NAME[table]
        row = await self._run(self._fetchone, f"SELECT count(*) FROM {spec.name}", ())
        return int(row[0]) if row else 0

    async def read_rows(self, table: str, after: tuple[Any, ...] | None, limit: int) -> list[tuple[Any, ...]]:
        spec = TABLES_BY_NAME[table]
        sql = page_query(spec, after is not None, "?")
        return await self._run(self._fetchall, sql, (*(after or ()), limit))

    async def write_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        sql = insert_query(TABLES_BY_NAME[table], "?")
        await self._run(self._write_many, sql, list(rows))

    # worker-thread helpers

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._connection:
            self._connection.executemany(sql, rows)

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._connection:
            return self._connection.execute(sql, params).rowcount

    def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._connection:
            return int(self._connection.execute(sql, params).lastrowid or 0)

    def _fetchone(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._connection.execute(sql, params).fetchone()
        return row

    def _fetchall(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, params).fetchall()


def _connect(path: Path) -> tuple[sqlite3.Connection, list[int]]:
    """Open the database in the worker thread (the connection is bound to it) and migrate the schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL loses no committed transaction on a crash of the process, only on power loss.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        applied = migrate(connection, path)
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise ConfigError(
            f"cannot open the session database {path}: {exc}", details={"path": str(path)}
        ) from None
    except BaseException:
        connection.close()
        raise
    return connection, applied


def _version(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def migrate(connection: sqlite3.Connection, path: Path) -> list[int]:
    """Apply the missing migrations, each in one transaction; the versions applied."""
    connection.execute(SCHEMA_VERSION_TABLE)
    connection.commit()
    current = _version(connection)
    if current > LATEST:
        raise ConfigError(
            f"the session database {path} has schema version {current}, newer than this voxhub's"
            f" {LATEST}; upgrade voxhub or point data_dir elsewhere",
            details={"path": str(path), "schema_version": current},
        )
    applied = []
    for migration in pending(current):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.sqlite:
                connection.execute(statement)
            connection.execute("DELETE FROM schema_version")
            connection.execute("INSERT INTO schema_version (version) VALUES (?)", (migration.version,))
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        applied.append(migration.version)
    return applied


SessionStore = SqliteStore  # the name the embedded store has always had
