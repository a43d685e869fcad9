"""The shared store: PostgreSQL through psycopg 3 and a connection pool, for many voxhub instances.

A call that meets a lost connection (the server restarted, an administrator cut it) is tried again on a
fresh one until `timeout_secs` have passed since the call began; then it raises DatabaseUnavailable
(`database_unavailable`, HTTP 503). No call waits longer than that. A write whose connection is lost after
PostgreSQL committed it but before the answer came back is applied again by the retry: the one case in which
a message can be stored twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

from voxhub.errors import ConfigError
from voxhub.sessions.errors import DatabaseUnavailable, SessionExists, SessionNotFound
from voxhub.sessions.models import HistoryMessage
from voxhub.sessions.profiles import Profile
from voxhub.sessions.store.base import TABLES_BY_NAME, StoredSession, history_rows, insert_query, page_query
from voxhub.sessions.store.migrations import LATEST, SCHEMA_VERSION_TABLE, pending

try:
    import psycopg
    from psycopg import AsyncConnection, errors
    from psycopg_pool import AsyncConnectionPool, PoolTimeout
except ImportError:  # pragma: no cover - the `postgres` extra is not installed
    psycopg = None  # type: ignore[assignment]

T = TypeVar("T")
Work = Callable[["AsyncConnection[Any]"], Awaitable[T]]
_MIGRATION_LOCK = 0x766F7868  # "voxh": instances starting together migrate one at a time
_FIRST_RETRY_SECS = 0.05


def redacted(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore:
    """A pool of connections in autocommit mode; each write is one transaction."""

    backend = "postgresql"

    def __init__(
        self, pool: AsyncConnectionPool[AsyncConnection[Any]], url: str, timeout_secs: float
    ) -> None:
        self._pool = pool
        # Connections cut while idle (a restart cuts them all) are found dead one by one as they are used:
        # that many tries go again at once; after them, the server itself is awaited with a backoff.
        self._immediate_retries = pool.max_size
        self._url = url
        self._timeout = timeout_secs
        self._closed = False

    @property
    def location(self) -> str:
        return redacted(self._url)

    @classmethod
    async def open(
        cls, url: str, *, pool_size: int = 10, timeout_secs: float = 5.0, migrate: bool | None = True
    ) -> Self:
        """Connect (waiting at most `timeout_secs`), then migrate the schema (True), check it is current
        (False), or neither (None: `voxhub db migrate` reports before it migrates)."""
        if psycopg is None:
            raise ConfigError(
                "database_url names PostgreSQL, but psycopg is not installed: pip install 'voxhub[postgres]'",
                details={"setting": "database_url"},
            )
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            open=False,
            timeout=timeout_secs,
            kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout_secs))},
            name="voxhub",
        )
        try:
            await pool.open(wait=True, timeout=timeout_secs)
        except PoolTimeout:
            await pool.close()
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {redacted(url)} within {timeout_secs:g} s",
                details={"database": redacted(url)},
            ) from None
        store = cls(pool, url, timeout_secs)
        try:
            if migrate:
                await store.migrate()
            elif migrate is False and (version := await store.schema_version()) != LATEST:
                raise ConfigError(
                    f"the database {redacted(url)} has schema version {version}, this voxhub needs {LATEST}:"
                    " run `voxhub db migrate`",
                    details={"database": redacted(url), "schema_version": version},
                )
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.close()

    async def _call(self, work: Work[T]) -> T:
        """`work` on a pooled connection, tried again on lost connections until the deadline."""
        if self._closed:
            raise RuntimeError("the session store is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        delay = _FIRST_RETRY_SECS
        immediate = self._immediate_retries
        while True:
            remaining = deadline - loop.time()
            used: AsyncConnection[Any] | None = None
            try:
                async with asyncio.timeout(remaining):
                    async with self._pool.connection(timeout=remaining) as used:
                        return await work(used)
            except (psycopg.OperationalError, PoolTimeout, TimeoutError) as exc:
                lost = isinstance(exc, psycopg.OperationalError) and used is not None and used.closed
                if lost and immediate > 0:  # the pool drops the dead connection; the next may be alive
                    immediate -= 1
                    continue
                if loop.time() + delay >= deadline:
                    raise DatabaseUnavailable(
                        f"PostgreSQL did not answer within {self._timeout:g} s ({type(exc).__name__})",
                        details={"database": self.location},
                    ) from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        async def work(connection: AsyncConnection[Any]) -> int:
            cursor = await connection.execute(sql, params)
            return cursor.rowcount

        return await self._call(work)

    async def _fetchone(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        async def work(connection: AsyncConnection[Any]) -> tuple[Any, ...] | None:
            cursor = await connection.execute(sql, params)
            return await cursor.fetchone()

        return await self._call(work)

    async def _fetchall(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async def work(connection: AsyncConnection[Any]) -> list[tuple[Any, ...]]:
            cursor = await connection.execute(sql, params)
            return await cursor.fetchall()

        return await self._call(work)

    async def ping(self) -> None:
        await self._fetchone("SELECT 1", ())

    async def schema_version(self) -> int:
        async def work(connection: AsyncConnection[Any]) -> int:
            exists = await (await connection.execute("SELECT to_regclass('schema_version')")).fetchone()
            if exists is None or exists[0] is None:
                return 0
            row = await (await connection.execute("SELECT max(version) FROM schema_version")).fetchone()
            return 0 if row is None or row[0] is None else int(row[0])

        return await self._call(work)

    async def migrate(self) -> list[int]:
        """Apply the missing migrations, each in one transaction, one instance at a time; those applied."""

        async def work(connection: AsyncConnection[Any]) -> list[int]:
            applied: list[int] = []
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                await connection.execute(SCHEMA_VERSION_TABLE)
            while True:
                async with connection.transaction():
                    await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                    row = await (
                        await connection.execute("SELECT max(version) FROM schema_version")
                    ).fetchone()
                    current = 0 if row is None or row[0] is None else int(row[0])
                    if current > LATEST:
                        raise ConfigError(
                            f"the database {self.location} has schema version {current}, newer than this"
                            f" voxhub's {LATEST}; upgrade voxhub",
                            details={"database": self.location, "schema_version": current},
                        )
                    todo = pending(current)
                    if not todo:
                        return applied
                    for statement in todo[0].postgres:
                        await connection.execute(statement)
                    await connection.execute("DELETE FROM schema_version")
                    await connection.execute(
                        "INSERT INTO schema_version (version) VALUES (%s)", (todo[0].version,)
                    )
                    applied.append(todo[0].version)

        return await self._call(work)

    # sessions

    async def create_session(self, session_id: str, config: dict[str, Any], created_at: float) -> None:
        try:
            await self._write(
                "INSERT INTO sessions (id, config, created_at, last_active_at) VALUES (%s, %s, %s, %s)",
                (session_id, json.dumps(config), created_at, created_at),
            )
        except errors.UniqueViolation:
            raise SessionExists(
                f"session {session_id!r} already exists", details={"session_id": session_id}
            ) from None

    async def get_session(self, session_id: str) -> StoredSession | None:
        row = await self._fetchone(
            "SELECT id, config, created_at, last_active_at FROM sessions WHERE id = %s", (session_id,)
        )
        if row is None:
            return None
        return StoredSession(id=row[0], config=json.loads(row[1]), created_at=row[2], last_active_at=row[3])

    async def update_config(self, session_id: str, config: dict[str, Any]) -> None:
        changed = await self._write(
            "UPDATE sessions SET config = %s WHERE id = %s", (json.dumps(config), session_id)
        )
        if not changed:
            raise SessionNotFound(f"no session {session_id!r}", details={"session_id": session_id})

    async def touch(self, session_id: str, at: float) -> None:
        await self._write(
            "UPDATE sessions SET last_active_at = GREATEST(last_active_at, %s) WHERE id = %s",
            (at, session_id),
        )

    async def delete_session(self, session_id: str) -> bool:
        return await self._write("DELETE FROM sessions WHERE id = %s", (session_id,)) > 0

    async def expired_sessions(self, idle_before: float) -> list[str]:
        rows = await self._fetchall(
            "SELECT id FROM sessions WHERE last_active_at < %s ORDER BY last_active_at", (idle_before,)
        )
        return [row[0] for row in rows]

    # history

    async def append_messages(self, session_id: str, messages: Sequence[HistoryMessage]) -> None:
        rows = [
            (session_id, m.role, m.content, m.turn_id, int(m.interrupted), m.created_at, m.tool_json())
            for m in messages
        ]

        async def work(connection: AsyncConnection[Any]) -> None:
            async with connection.transaction(), connection.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO messages (session_id, role, content, turn_id, interrupted, created_at,"
                    " tool_json) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )

        try:
            await self._call(work)
        except errors.ForeignKeyViolation:
            raise SessionNotFound(f"no session {session_id!r}", details={"session_id": session_id}) from None

    async def history(self, session_id: str, limit: int | None = None) -> list[HistoryMessage]:
        rows = await self._fetchall(
            "SELECT role, content, turn_id, interrupted, created_at, tool_json FROM messages"
            " WHERE session_id = %s ORDER BY id DESC LIMIT %s",
            (session_id, None if limit is None else max(limit, 0)),
        )
        return history_rows(rows)

    async def rewrite_messages(self, session_id: str, turn_id: str, role: str, content: str | None) -> int:
        if content is None:
            return await self._write(
                "DELETE FROM messages WHERE session_id = %s AND turn_id = %s AND role = %s",
                (session_id, turn_id, role),
            )
        return await self._write(
            "UPDATE messages SET content = %s WHERE session_id = %s AND turn_id = %s AND role = %s",
            (content, session_id, turn_id, role),
        )

    async def history_after(self, session_id: str, skip: int, limit: int) -> list[HistoryMessage]:
        rows = await self._fetchall(
            "SELECT role, content, turn_id, interrupted, created_at, tool_json FROM"
            " (SELECT * FROM messages WHERE session_id = %s ORDER BY id OFFSET %s) AS later"
            " ORDER BY id DESC LIMIT %s",
            (session_id, max(skip, 0), max(limit, 0)),
        )
        return history_rows(rows)

    async def message_count(self, session_id: str) -> int:
        row = await self._fetchone("SELECT count(*) FROM messages WHERE session_id = %s", (session_id,))
        return int(row[0]) if row else 0

    # summaries and user notes

    async def save_summary(self, session_id: str, content: str, covered_messages: int) -> None:
        await self._write(
            "INSERT INTO summaries (session_id, content, through_message_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (session_id) DO UPDATE SET content = excluded.content,"
            " through_message_id = excluded.through_message_id",
            (session_id, content, covered_messages),
        )

    async def summary(self, session_id: str) -> tuple[str, int] | None:
        row = await self._fetchone(
            "SELECT content, through_message_id FROM summaries WHERE session_id = %s", (session_id,)
        )
        return None if row is None else (str(row[0]), int(row[1]))

    async def add_note(self, user_id: str, content: str, created_at: float) -> int:
        row = await self._fetchone(
            "INSERT INTO user_notes (user_id, content, created_at) VALUES (%s, %s, %s) RETURNING id",
            (user_id, content, created_at),
        )
        return int(row[0]) if row else 0

    async def notes(self, user_id: str) -> list[tuple[int, str, float]]:
        rows = await self._fetchall(
            "SELECT id, content, created_at FROM user_notes WHERE user_id = %s ORDER BY id", (user_id,)
        )
        return [(int(r[0]), str(r[1]), float(r[2])) for r in rows]

    async def delete_note(self, user_id: str, note_id: int) -> bool:
        deleted = await self._write(
            "DELETE FROM user_notes WHERE user_id = %s AND id = %s", (user_id, note_id)
        )
        return deleted > 0

    # profiles

    async def save_profile(self, profile: Profile) -> None:
        await self._write(
            "INSERT INTO profiles (name, data) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET data = excluded.data",
            (profile.name, json.dumps(profile.to_dict())),
        )

    async def get_profile(self, name: str) -> Profile | None:
        row = await self._fetchone("SELECT name, data FROM profiles WHERE name = %s", (name,))
        return None if row is None else Profile.from_dict(row[0], json.loads(row[1]))

    async def list_profiles(self) -> list[Profile]:
        rows = await self._fetchall("SELECT name, data FROM profiles ORDER BY name", ())
        return [Profile.from_dict(name, json.loads(data)) for name, data in rows]

    async def delete_profile(self, name: str) -> bool:
        return await self._write("DELETE FROM profiles WHERE name = %s", (name,)) > 0

    # documents

    async def put_document(self, kind: str, key: str, data: dict[str, Any], updated_at: float) -> None:
        await self._write(
            "INSERT INTO documents (kind, key, data, updated_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (kind, key, json.dumps(data), updated_at),
        )

    async def get_document(self, kind: str, key: str) -> dict[str, Any] | None:
        row = await self._fetchone("SELECT data FROM documents WHERE kind = %s AND key = %s", (kind, key))
        return None if row is None else dict(json.loads(row[0]))

    async def list_documents(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        rows = await self._fetchall("SELECT key, data FROM documents WHERE kind = %s ORDER BY key", (kind,))
        return [(str(key), dict(json.loads(data))) for key, data in rows]

    async def delete_document(self, kind: str, key: str) -> bool:
        return await self._write("DELETE FROM documents WHERE kind = %s AND key = %s", (kind, key)) > 0

    # whole tables

    async def count_rows(self, table: str) -> int:
        spec = TABLES_BY_NAME[table]
        row = await self._fetchone(f"SELECT count(*) FROM {spec.name}", ())
        return int(row[0]) if row else 0

    async def read_rows(self, table: str, after: tuple[Any, ...] | None, limit: int) -> list[tuple[Any, ...]]:
        sql = page_query(TABLES_BY_NAME[table], after is not None, "%s")
        return await self._fetchall(sql, (*(after or ()), limit))

    async def write_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        spec = TABLES_BY_NAME[table]
        sql = insert_query(spec, "%s")

        async def work(connection: AsyncConnection[Any]) -> None:
            async with connection.transaction(), connection.cursor() as cursor:
                await cursor.executemany(sql, list(rows))
                if spec.identity:  # rows to come get numbers after the copied ones
                    await cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{spec.name}', '{spec.identity}'),"
                        f" (SELECT max({spec.identity}) FROM {spec.name}))"
                    )

        await self._call(work)
