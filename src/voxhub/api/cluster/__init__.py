"""Many instances as one: cluster-wide limits, the live-session registry and the event bus, through Redis
(`redis_url`). Redis down: each instance falls back to its own limits and events with one warning, keeps
serving, and rejoins when Redis answers again (checked every renewal, a third of `cluster_lease_secs`)."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import TYPE_CHECKING, Any

from voxhub.api.cluster.bus import EventBus
from voxhub.api.cluster.link import REDIS_ERRORS, RedisLink, stop_tasks
from voxhub.api.cluster.registry import Moved, SessionRegistry
from voxhub.api.cluster.slots import Admission, ClusterRates, ClusterSlots

if TYPE_CHECKING:
    from voxhub.config import Settings

__all__ = ["Admission", "Cluster", "EventBus", "instance_name"]


def instance_name(settings: Settings) -> str:
    return settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"


class Cluster:
    """The Redis-backed parts of one instance, and the loop that renews their leases."""

    def __init__(self, settings: Settings, link: RedisLink | None = None) -> None:
        assert settings.redis_url is not None
        self.instance = instance_name(settings)
        self.link = link or RedisLink(settings.redis_url, settings.cluster_key_prefix)
        self.lease_secs = settings.cluster_lease_secs
        self.slots: ClusterSlots | None = None
        if settings.cluster_max_connections > 0:
            self.slots = ClusterSlots(
                self.link, self.instance, settings.cluster_max_connections, self.lease_secs
            )
        self.rates: ClusterRates | None = None
        if settings.client_turns_per_minute > 0:
            self.rates = ClusterRates(self.link, settings.client_turns_per_minute, settings.client_turn_burst)
        self.registry = SessionRegistry(self.link, self.instance, self.lease_secs)
        self.bus = EventBus(self.instance, self.link, settings.cluster_events_maxlen)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def up(self) -> bool:
        return self.link.up

    async def start(self) -> None:
        await self.link.connect()
        await self.bus.start()
        self._tasks = [
            asyncio.create_task(self._renew_loop(), name="voxhub-cluster-renew"),
            asyncio.create_task(self.registry.listen(), name="voxhub-cluster-listen"),
        ]

    async def aclose(self) -> None:
        await stop_tasks(self._tasks)
        await self.bus.aclose()
        await self.link.aclose()  # registry entries lapse with their lease; a reopened session moves anyway

    async def renew(self) -> None:
        """One renewal: reconnect if Redis was down, then extend every lease held here."""
        if not self.link.up and not await self.link.connect():
            return
        try:
            if self.slots is not None:
                await self.slots.renew()
            await self.registry.renew()
        except REDIS_ERRORS as exc:
            self.link.lost(exc)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_secs / 3)
            await self.renew()

    async def status(self) -> dict[str, Any]:
        """For `/api/v1/system/status`: this instance, Redis up or not, slots in use cluster-wide."""
        used: int | None = None
        if self.slots is not None and self.link.up:
            try:
                used = await self.slots.in_use()
            except REDIS_ERRORS as exc:
                self.link.lost(exc)
        return {
            "instance": self.instance,
            "redis": "up" if self.link.up else "down",
            "max_connections": self.slots.cap if self.slots is not None else None,
            "connections_in_use": used,
            "connections_held_here": self.slots.held if self.slots is not None else None,
            "live_sessions_here": len(self.registry.sessions()),
            "events_published": self.bus.published,
        }

    # -- admission -------------------------------------------------------------------------------------------

    async def acquire(self) -> Admission:
        """A cluster slot for a connection; taken (with no member) when there is no cluster cap or Redis is
        down, since the instance's own `max_connections` then decides alone."""
        if self.slots is None or not self.link.up:
            return Admission(True, 0)
        try:
            return await self.slots.acquire()
        except REDIS_ERRORS as exc:
            self.link.lost(exc)
            return Admission(True, 0)

    async def release(self, admission: Admission) -> None:
        if self.slots is None or not admission.member:
            return
        if not self.link.up:
            self.slots.forget(admission.member)  # lapses in Redis with its lease
            return
        try:
            await self.slots.release(admission.member)
        except REDIS_ERRORS as exc:
            self.link.lost(exc)

    async def retry_after_secs(self, client: str) -> float | None:
        """The cluster-wide turn budget of `client` (None: go ahead); None too when Redis is down, so the
        local budget decides."""
        if self.rates is None or not self.link.up:
            return None
        try:
            return await self.rates.retry_after_secs(client)
        except REDIS_ERRORS as exc:
            self.link.lost(exc)
            return None

    async def claim(self, session_id: str, moved: Moved) -> None:
        try:
            await self.registry.claim(session_id, moved)
        except REDIS_ERRORS as exc:
            self.link.lost(exc)

    async def release_session(self, session_id: str, moved: Moved) -> None:
        await self.registry.release(session_id, moved)
