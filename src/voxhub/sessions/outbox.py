"""The webhook outbox: each event for each receiver, written when it is emitted, until a 2xx marks it sent.

A table of the session store (`webhook_outbox`, schema version 4) on either backend: rows are read back in
the order they were written (`seq`), so a receiver hears one session's events in the order they happened,
and rows still undelivered when an instance stops are sent by the next one to start on the same store.
Instances sharing a store deliver to one receiver one at a time: whoever holds its lease (`webhook_leases`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voxhub.sessions.store.tables import StoreTable


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One delivery: `body` is the JSON object sent to `target`, `event_id` names the event it carries."""

    seq: int
    event_id: str
    target: str
    session_id: str
    body: dict[str, Any]
    attempts: int


class Outbox(StoreTable):
    """The `webhook_outbox` table's accessors, over the store's own connection (SQLite) or pool (PostgreSQL)."""

    async def add(
        self, event_id: str, session_id: str, body: dict[str, Any], targets: Sequence[str], at: float
    ) -> None:
        """The event queued for each of `targets`, committed before this returns."""
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        m = self._mark
        sql = (
            "INSERT INTO webhook_outbox (event_id, target, session_id, body, created_at, attempts)"
            f" VALUES ({m}, {m}, {m}, {m}, {m}, 0)"
        )
        for target in targets:
            await self._write(sql, (event_id, target, session_id, text, at))

    async def pending(self, target: str, limit: int = 100) -> list[OutboxRow]:
        """`target`'s undelivered rows, oldest first."""
        m = self._mark
        rows = await self._fetchall(
            "SELECT seq, event_id, target, session_id, body, attempts FROM webhook_outbox"
            f" WHERE target = {m} AND delivered_at IS NULL ORDER BY seq LIMIT {m}",
            (target, limit),
        )
        return [OutboxRow(int(r[0]), r[1], r[2], r[3], json.loads(r[4]), int(r[5])) for r in rows]

    async def targets(self) -> list[str]:
        """Every receiver with rows still to deliver (some may be gone from the settings since)."""
        rows = await self._fetchall(
            "SELECT DISTINCT target FROM webhook_outbox WHERE delivered_at IS NULL", ()
        )
        return [str(r[0]) for r in rows]

    async def delivered(self, seq: int, at: float) -> None:
        m = self._mark
        await self._write(f"UPDATE webhook_outbox SET delivered_at = {m} WHERE seq = {m}", (at, seq))

    async def failed(self, seq: int) -> None:
        """One more try counted for the row."""
        m = self._mark
        await self._write(f"UPDATE webhook_outbox SET attempts = attempts + 1 WHERE seq = {m}", (seq,))

    async def prune(self, delivered_before: float) -> int:
        """Delivered rows older than `delivered_before` deleted; how many."""
        m = self._mark
        return await self._write(
            f"DELETE FROM webhook_outbox WHERE delivered_at IS NOT NULL AND delivered_at < {m}",
            (delivered_before,),
        )

    async def lease(self, target: str, holder: str, now: float, ttl_secs: float) -> bool:
        """Whether `holder` now delivers to `target`: it held the lease, or the lease had expired (an
        instance that stopped or died); held for `ttl_secs` more. One deliverer per receiver keeps order."""
        m = self._mark
        taken = await self._write(
            f"INSERT INTO webhook_leases (target, holder, expires_at) VALUES ({m}, {m}, {m})"
            " ON CONFLICT (target) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
            f" WHERE webhook_leases.holder = excluded.holder OR webhook_leases.expires_at < {m}",
            (target, holder, now + ttl_secs, now),
        )
        return taken == 1

    async def release(self, target: str, holder: str) -> None:
        m = self._mark
        await self._write(f"DELETE FROM webhook_leases WHERE target = {m} AND holder = {m}", (target, holder))
