"""Who may hold what: a Wyoming connection takes one of the server's shared slots only while it works,
and one client address may keep only so many connections open.

The slots (`ConnectionTracker`, `max_connections`) are shared with WebSockets and HTTP turns, and with
`redis_url`, the cluster's (`cluster_max_connections`, taken once the local one is). A Wyoming
connection that is open but idle holds none, so idle connections can never lock the other clients out; it
takes one for a transcription, a wake-word detection, a synthesis or a `handle` turn, and gives it back
when the last of its work ends.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from voxhub.api.cluster import Cluster
from voxhub.api.cluster.slots import Admission
from voxhub.api.errors import ServerBusy
from voxhub.api.limits import ConnectionTracker
from voxhub.errors import VoxhubError

KIND = "wyoming"
Work = Literal["listening", "speaking", "turn"]


class TooManyConnections(VoxhubError):
    """One client address has too many Wyoming connections open."""

    code = "too_many_connections"
    status_code = 429


class ClientLimit:
    """Open Wyoming connections per client address, counted over every Wyoming port of the server."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._open: Counter[str] = Counter()

    def open(self, address: str) -> None:
        """Count a new connection from `address`; TooManyConnections (and nothing counted) past the cap."""
        if self._open[address] >= self.per_client:
            raise TooManyConnections(
                f"{address} already has {self._open[address]} Wyoming connections open, the most one "
                f"client may (wyoming_max_connections_per_client)",
                details={"address": address, "limit": self.per_client},
            )
        self._open[address] += 1

    def close(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    def count(self, address: str) -> int:
        return self._open[address]


class WorkSlot:
    """One connection's hold on a shared slot: taken when its first work starts, given back after its last."""

    def __init__(self, tracker: ConnectionTracker, cluster: Cluster | None = None) -> None:
        self._tracker = tracker
        self._cluster = cluster
        self._admission: Admission | None = None  # the cluster slot, while one is held
        self._taking = asyncio.Lock()  # two works starting at once take one slot
        self._releases: set[asyncio.Task[None]] = set()
        self._work: set[Work] = set()
        self._since = 0.0

    @property
    def held(self) -> bool:
        return bool(self._work)

    async def take(self, work: Work) -> None:
        """Hold a slot for `work` (one slot however much work runs); ServerBusy when none is free, here or in
        the cluster."""
        async with self._taking:
            if not self._work:
                tracker = self._tracker
                if not tracker.try_acquire(KIND):
                    raise ServerBusy(
                        f"server at capacity: {tracker.active} of {tracker.max_connections} connections in use",
                        details=tracker.capacity(),
                    )
                if self._cluster is not None:
                    admission = await self._cluster.acquire()
                    if not admission.taken:
                        tracker.release(KIND, duration_secs=0.0)
                        raise ServerBusy(
                            f"cluster at capacity ({admission.used} connections in use); try later",
                            details={"cluster_in_use": admission.used},
                        )
                    self._admission = admission
                self._since = time.monotonic()
            self._work.add(work)

    def give_back(self, work: Work) -> None:
        """`work` is over; the slot goes back when no other work holds it (safe to call twice)."""
        if work not in self._work:
            return
        self._work.discard(work)
        if not self._work:
            self._tracker.release(KIND, duration_secs=time.monotonic() - self._since)
            admission, self._admission = self._admission, None
            if admission is not None and self._cluster is not None:
                release = asyncio.ensure_future(self._cluster.release(admission))
                self._releases.add(release)
                release.add_done_callback(self._releases.discard)

    def give_back_all(self) -> None:
        for work in list(self._work):
            self.give_back(work)

    @asynccontextmanager
    async def holding(self, work: Work) -> AsyncIterator[None]:
        await self.take(work)
        try:
            yield
        finally:
            self.give_back(work)
