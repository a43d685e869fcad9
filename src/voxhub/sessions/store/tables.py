"""Plain SQL on a store's own connection (SQLite) or pool (PostgreSQL), for the small tables that live
beside the store's records: the webhook outbox, the timers."""

from __future__ import annotations

from typing import Any

from voxhub.sessions.store.base import Store
from voxhub.sessions.store.sqlite import SqliteStore


class StoreTable:
    """Runs one statement at a time on `store`; `mark` is its parameter placeholder (`?` or `%s`)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._mark = "?" if isinstance(store, SqliteStore) else "%s"

    async def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        """Rows changed."""
        store = self._store
        if isinstance(store, SqliteStore):
            return await store._run(store._write, sql, params)
        result: int = await store._write(sql, params)  # type: ignore[attr-defined]
        return result

    async def _fetchall(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        store = self._store
        if isinstance(store, SqliteStore):
            return await store._run(store._fetchall, sql, params)
        rows: list[tuple[Any, ...]] = await store._fetchall(sql, params)  # type: ignore[attr-defined]
        return rows
