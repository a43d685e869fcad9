"""What every session store offers (SQLite embedded, PostgreSQL for many instances), and its tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from voxhub.sessions.models import HistoryMessage
from voxhub.sessions.profiles import Profile


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: str
    config: dict[str, Any]
    created_at: float
    last_active_at: float


@dataclass(frozen=True, slots=True)
class Table:
    """A table as `voxhub db copy` moves it: its columns, and the key its rows are read in order of."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    identity: str | None = None  # a column numbered by the database (its counter moves past copied rows)


# In copy order: a table comes after the ones it references.
TABLES: tuple[Table, ...] = (
    Table("sessions", ("id", "config", "created_at", "last_active_at"), ("id",)),
    Table(
        "messages",
        ("id", "session_id", "role", "content", "turn_id", "interrupted", "created_at", "tool_json"),
        ("id",),
        identity="id",
    ),
    Table("summaries", ("session_id", "content", "through_message_id"), ("session_id",)),
    Table("user_notes", ("id", "user_id", "content", "created_at"), ("id",), identity="id"),
    Table("profiles", ("name", "data"), ("name",)),
    Table("documents", ("kind", "key", "data", "updated_at"), ("kind", "key")),
    Table(
        "webhook_outbox",
        ("seq", "event_id", "target", "session_id", "body", "created_at", "attempts", "delivered_at"),
        ("seq",),
        identity="seq",
    ),
    Table("timers", ("id", "session_id", "timer_id", "name", "duration", "ends_at", "created_at"), ("id",)),
)
TABLES_BY_NAME = {table.name: table for table in TABLES}


def page_query(table: Table, after: bool, placeholder: str) -> str:
    """Rows of `table` in key order, `LIMIT` one parameter, after a key given as parameters if `after`."""
    columns = ", ".join(table.columns)
    key = ", ".join(table.key)
    where = ""
    if after:
        marks = ", ".join([placeholder] * len(table.key))
        where = f" WHERE ({key}) > ({marks})" if len(table.key) > 1 else f" WHERE {key} > {marks}"
    return f"SELECT {columns} FROM {table.name}{where} ORDER BY {key} LIMIT {placeholder}"


def insert_query(table: Table, placeholder: str) -> str:
    marks = ", ".join([placeholder] * len(table.columns))
    return f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"


class Store(Protocol):
    """Sessions, history, summaries, user notes, custom profiles and documents (personas, generated tools).

    Every write is committed before its call returns. `backend` is "sqlite" or "postgresql".
    """

    backend: str

    @property
    def location(self) -> str:
        """Where the data is, for logs (a PostgreSQL URL without its password)."""
        ...

    async def close(self) -> None: ...
    async def ping(self) -> None: ...
    async def schema_version(self) -> int: ...
    async def migrate(self) -> list[int]: ...

    # sessions
    async def create_session(self, session_id: str, config: dict[str, Any], created_at: float) -> None: ...
    async def get_session(self, session_id: str) -> StoredSession | None: ...
    async def update_config(self, session_id: str, config: dict[str, Any]) -> None: ...
    async def touch(self, session_id: str, at: float) -> None: ...
    async def delete_session(self, session_id: str) -> bool: ...
    async def expired_sessions(self, idle_before: float) -> list[str]: ...

    # history
    async def append_messages(self, session_id: str, messages: Sequence[HistoryMessage]) -> None: ...
    async def history(self, session_id: str, limit: int | None = None) -> list[HistoryMessage]: ...
    async def rewrite_messages(
        self, session_id: str, turn_id: str, role: str, content: str | None
    ) -> int: ...
    async def history_after(self, session_id: str, skip: int, limit: int) -> list[HistoryMessage]: ...
    async def message_count(self, session_id: str) -> int: ...

    # summaries and user notes
    async def save_summary(self, session_id: str, content: str, covered_messages: int) -> None: ...
    async def summary(self, session_id: str) -> tuple[str, int] | None: ...
    async def add_note(self, user_id: str, content: str, created_at: float) -> int: ...
    async def notes(self, user_id: str) -> list[tuple[int, str, float]]: ...
    async def delete_note(self, user_id: str, note_id: int) -> bool: ...

    # profiles
    async def save_profile(self, profile: Profile) -> None: ...
    async def get_profile(self, name: str) -> Profile | None: ...
    async def list_profiles(self) -> list[Profile]: ...
    async def delete_profile(self, name: str) -> bool: ...

    # documents: JSON objects by kind ("persona", "autofunction") and key
    async def put_document(self, kind: str, key: str, data: dict[str, Any], updated_at: float) -> None: ...
    async def get_document(self, kind: str, key: str) -> dict[str, Any] | None: ...
    async def list_documents(self, kind: str) -> list[tuple[str, dict[str, Any]]]: ...
    async def delete_document(self, kind: str, key: str) -> bool: ...

    # whole tables, for `voxhub db copy`
    async def count_rows(self, table: str) -> int: ...
    async def read_rows(
        self, table: str, after: tuple[Any, ...] | None, limit: int
    ) -> list[tuple[Any, ...]]: ...
    async def write_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None: ...


def history_rows(rows: Sequence[Sequence[Any]]) -> list[HistoryMessage]:
    """(role, content, turn_id, interrupted, created_at, tool_json) rows, newest first, as history."""
    return [
        HistoryMessage.with_tool_json(
            HistoryMessage(role=r[0], content=r[1], turn_id=r[2], interrupted=bool(r[3]), created_at=r[4]),
            r[5],
        )
        for r in reversed(rows)
    ]
