"""The event bus: every server event a session emits, for `WS /api/v1/events` on any instance.

Alone (no `redis_url`, or Redis down) the bus hands events straight to this instance's subscribers. With
Redis, a publisher task appends them to one stream, `<prefix>events`, trimmed to about
`cluster_events_maxlen` entries (XADD MAXLEN ~), in pipelined batches so a turn never waits on Redis; one
reader task per instance follows the stream and hands each entry to the local subscribers. Everyone reads
the same stream, so every instance sees every session's events in one order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import Any

from voxhub.api.cluster.link import REDIS_ERRORS, RedisLink, stop_tasks, stopping

_QUEUE = 1000  # events a subscriber may fall behind before the oldest are dropped
_UNPUBLISHED = 10_000  # events waiting for Redis before new ones are only delivered locally
SKIPPED = frozenset({"tts_chunk", "pong"})  # audio and keep-alives are not events worth sharing


@dataclass(eq=False)
class Subscription:
    """One subscriber's filter and queue; `dropped` counts events it was too slow for."""

    session_id: str | None = None
    types: frozenset[str] = frozenset()
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(_QUEUE))
    dropped: int = 0

    def wants(self, body: dict[str, Any]) -> bool:
        if self.session_id is not None and body.get("session_id") != self.session_id:
            return False
        return not self.types or body.get("type") in self.types

    def offer(self, body: dict[str, Any]) -> None:
        if not self.wants(body):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(body)


class EventBus:
    """Publish events; subscribe to them, filtered by session and type."""

    def __init__(self, instance: str, link: RedisLink | None = None, maxlen: int = 10_000) -> None:
        self.instance = instance
        self.link = link
        self.maxlen = maxlen
        self._subscribers: set[Subscription] = set()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_UNPUBLISHED)
        self._tasks: list[asyncio.Task[None]] = []
        self.published = 0
        self._last: str | None = None  # the stream entry the reader has reached

    @property
    def shared(self) -> bool:
        """Whether events go through Redis now (else only to this instance's subscribers)."""
        return self.link is not None and self.link.up

    def publish(self, body: dict[str, Any]) -> None:
        """Queue one server event (never waits; audio and pongs are skipped)."""
        if body.get("type") in SKIPPED:
            return
        if self.link is None or not self.link.up or self._outbox.full():
            self._deliver(body)
            return
        self._outbox.put_nowait({**body, "instance": self.instance})

    def _deliver(self, body: dict[str, Any]) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(body)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, session_id: str | None = None, types: Collection[str] = ()
    ) -> AsyncIterator[Subscription]:
        """A subscription for the block: events published from now on reach its queue."""
        subscription = Subscription(session_id, frozenset(types))
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    # -- with Redis ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start publishing to and reading from the stream (from its current end)."""
        if self.link is None:
            return
        self._last = None
        if self.link.up:
            with contextlib.suppress(*REDIS_ERRORS):
                self._last = await self._stream_end()
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="voxhub-bus-publish"),
            asyncio.create_task(self._read_loop(), name="voxhub-bus-read"),
        ]

    async def aclose(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks = []

    async def _publish_loop(self) -> None:
        assert self.link is not None
        key = self.link.key("events")
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with self.link.client.pipeline(transaction=False) as pipe:
                    for body in batch:
                        pipe.xadd(key, {"e": json.dumps(body, ensure_ascii=False)}, maxlen=self.maxlen)
                    await pipe.execute()
                self.published += len(batch)
            except REDIS_ERRORS as exc:
                self.link.lost(exc)
                for body in batch:  # not lost: this instance's subscribers still see them
                    self._deliver(body)

    async def _read_loop(self) -> None:
        assert self.link is not None
        key = self.link.key("events")
        while not stopping():
            if not self.link.up:
                await asyncio.sleep(0.5)
                continue
            try:
                if self._last is None:
                    self._last = await self._stream_end()
                entries: Any = await self.link.client.xread({key: self._last}, count=500, block=500)
            except REDIS_ERRORS as exc:
                self.link.lost(exc)
                self._last = None  # after an outage, from the end: what was missed went out locally
                continue
            for _stream, items in entries or ():
                for entry_id, fields in items:
                    self._last = _text(entry_id)
                    raw = fields.get(b"e") or fields.get("e")
                    with contextlib.suppress(ValueError, TypeError):
                        body = json.loads(raw)
                        body["event_id"] = self._last
                        self._deliver(body)

    async def _stream_end(self) -> str:
        assert self.link is not None
        newest: Any = await self.link.client.xrevrange(self.link.key("events"), count=1)
        return _text(newest[0][0]) if newest else "0-0"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
