"""Running timers kept in the session store (`timers`, schema version 5), so a restart does not lose them.

A row is written when a timer starts and deleted when it is cancelled, when its session goes, or by whoever
rings it: `claim` deletes the row and says whether this caller was the one that did, so instances sharing a
PostgreSQL store that all restored the same timer ring it once.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxhub.sessions.store.tables import StoreTable


@dataclass(frozen=True, slots=True)
class StoredTimer:
    """One running timer: `key` is the row's own id, `timer_id` the id its session knows it by."""

    key: str
    session_id: str
    timer_id: str
    name: str | None
    duration_secs: float
    ends_at: float  # wall clock, `time.time()` seconds
    created_at: float


class TimerStore(StoreTable):
    """The `timers` table's accessors, over the store's own connection (SQLite) or pool (PostgreSQL)."""

    async def save(self, timer: StoredTimer) -> None:
        m = self._mark
        await self._write(
            "INSERT INTO timers (id, session_id, timer_id, name, duration, ends_at, created_at)"
            f" VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m})",
            (
                timer.key,
                timer.session_id,
                timer.timer_id,
                timer.name,
                timer.duration_secs,
                timer.ends_at,
                timer.created_at,
            ),
        )

    async def claim(self, key: str) -> bool:
        """The row deleted; whether it was still there (this caller, and no one else, rings the timer)."""
        return await self._write(f"DELETE FROM timers WHERE id = {self._mark}", (key,)) == 1

    async def delete_session(self, session_id: str) -> int:
        """Every timer of the session deleted; how many."""
        return await self._write(f"DELETE FROM timers WHERE session_id = {self._mark}", (session_id,))

    async def all(self) -> list[StoredTimer]:
        """Every stored timer, the soonest first."""
        rows = await self._fetchall(
            "SELECT id, session_id, timer_id, name, duration, ends_at, created_at FROM timers"
            " ORDER BY ends_at, id",
            (),
        )
        return [StoredTimer(r[0], r[1], r[2], r[3], float(r[4]), float(r[5]), float(r[6])) for r in rows]
