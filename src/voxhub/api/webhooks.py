"""Webhooks: events POSTed to each configured receiver, signed, at least once, in order (docs/deploy.md).

`emit` writes the event to the outbox (one row per receiver that wants it) before it returns; one worker per
receiver sends its rows oldest first, each until a 2xx answers, waiting longer after each failure (doubling
from `webhook_retry_base_secs` up to `webhook_retry_max_secs`, each delay drawn between half and all of
it). A receiver that is down holds its own queue only. Rows left when an instance stops are sent by the
next one on the same store: a receiver may so see an event twice, and deduplicates by `X-Voxhub-Event-Id`.
Instances sharing a store deliver to a receiver one at a time, whoever holds its lease (`Outbox.lease`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from voxhub.config import Settings
from voxhub.sessions.outbox import Outbox, OutboxRow
from voxhub.sessions.store.base import Store
from voxhub.settings.webhooks import WebhookSetting

logger = logging.getLogger(__name__)
T = TypeVar("T")

SIGNATURE_HEADER = "X-Voxhub-Signature"
TIMESTAMP_HEADER = "X-Voxhub-Timestamp"
EVENT_ID_HEADER = "X-Voxhub-Event-Id"
EVENT_TYPE_HEADER = "X-Voxhub-Event"
# Streaming detail a receiver cannot use: partial transcripts (`transcript` with is_final false) and these.
NOT_SENT = frozenset({"response_delta", "audio_start", "audio_end", "viseme", "tts_chunk", "audio_played"})
_PRUNE_AFTER_SECS = 24 * 3600.0
# One instance delivers to a receiver at a time: it renews its lease before each try; an instance that died
# is taken over LEASE_SECS later. The others look for rows they did not write every POLL_SECS.
LEASE_SECS = 30.0
POLL_SECS = 2.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def carried(body: dict[str, Any]) -> bool:
    """Whether webhooks carry this event at all (final transcripts, responses, tool calls, errors, ...)."""
    kind = body.get("type")
    if kind in NOT_SENT:
        return False
    return not (kind == "transcript" and not body.get("data", {}).get("is_final", False))


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    base_secs: float
    max_secs: float

    def delay(self, failures: int, draw: Callable[[], float] = random.random) -> float:
        """The wait after the `failures`-th failure in a row (1, 2, ...): capped doubling, jittered to ½–1."""
        ceiling = min(self.max_secs, self.base_secs * 2.0 ** min(failures - 1, 62))
        return ceiling * (0.5 + 0.5 * draw())


class Webhooks:
    """The outbox's writer and its delivery workers, one per receiver."""

    def __init__(
        self,
        outbox: Outbox,
        targets: Sequence[WebhookSetting],
        schedule: RetrySchedule,
        *,
        timeout_secs: float = 10.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lease_secs: float = LEASE_SECS,
        poll_secs: float = POLL_SECS,
    ) -> None:
        self._outbox = outbox
        self._holder = uuid.uuid4().hex  # this instance, in `webhook_leases`
        self._lease_secs = lease_secs
        self._poll_secs = poll_secs
        self._targets = {target.url: target for target in targets}
        self._schedule = schedule
        self._client = client or httpx.AsyncClient(timeout=timeout_secs)
        self._owns_client = client is None
        self._clock = clock
        self._sleep = sleep
        self._wake = {url: asyncio.Event() for url in self._targets}
        self._workers: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[str | None]] = set()
        self._lock = asyncio.Lock()  # emits are written in the order they were made
        self.attempts = 0  # deliveries tried, failed ones included (for tests and metrics)
        self.failures = 0
        self.changed = asyncio.Condition()  # notified after every attempt

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> Webhooks | None:
        if not settings.webhooks:
            return None
        schedule = RetrySchedule(settings.webhook_retry_base_secs, settings.webhook_retry_max_secs)
        return cls(Outbox(store), settings.webhooks, schedule, timeout_secs=settings.webhook_timeout_secs)

    async def start(self) -> None:
        """Delete long-delivered rows, then start the workers: each first sends what an earlier run left."""
        try:
            await self._outbox.prune(self._clock() - _PRUNE_AFTER_SECS)
        except Exception as exc:  # the store is down: rows are pruned next start
            logger.warning("webhook outbox not pruned: %s", exc)
        for url in self._targets:
            self._workers.append(asyncio.create_task(self._work(url), name=f"voxhub-webhook {url}"))

    async def aclose(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()
        if self._inflight:  # attempts under way finish (within the client's timeout) and are recorded
            await asyncio.wait(set(self._inflight))
        for url in self._targets:  # the next instance need not wait for the leases to expire
            with contextlib.suppress(Exception):
                await self._outbox.release(url, self._holder)
        if self._owns_client:
            await self._client.aclose()

    def wants(self, target: WebhookSetting, kind: str) -> bool:
        return not target.events or kind in target.events

    async def emit(self, body: dict[str, Any]) -> None:
        """Queue the event for every receiver that wants it; never raises (a store error is logged)."""
        if not carried(body):
            return
        kind = str(body.get("type", ""))
        urls = [url for url, target in self._targets.items() if self.wants(target, kind)]
        if not urls:
            return
        event_id = uuid.uuid4().hex
        payload = {"id": event_id, **body}
        try:
            async with self._lock:
                await self._outbox.add(
                    event_id, str(body.get("session_id", "")), payload, urls, self._clock()
                )
        except Exception as exc:
            logger.warning("webhook event %s not queued: %s", kind, exc, extra={"error": "webhook_queue"})
            return
        for url in urls:
            self._wake[url].set()

    async def _work(self, url: str) -> None:
        wake = self._wake[url]
        store_failures = 0
        while True:
            wake.clear()
            try:
                rows = await self._outbox.pending(url) if await self._holds(url) else None
                store_failures = 0
            except Exception as exc:
                store_failures += 1
                logger.warning("webhook outbox unreadable: %s", exc)
                await self._sleep(self._schedule.delay(store_failures))
                continue
            if not rows:  # nothing to send, or another instance sends it: until an emit, or the next look
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_secs):
                        await wake.wait()
                continue
            for row in rows:
                if not await self._deliver(self._targets[url], row):
                    break

    async def _holds(self, url: str) -> bool:
        """Whether this instance delivers to `url` (its lease taken or renewed)."""
        return await self._outbox.lease(url, self._holder, self._clock(), self._lease_secs)

    async def _deliver(self, target: WebhookSetting, row: OutboxRow) -> bool:
        """Send `row` until a 2xx answers, then mark it delivered; False if the lease went to another
        instance first (it sends the row)."""
        content = json.dumps(row.body, separators=(",", ":"), ensure_ascii=False).encode()
        failures = 0
        while True:
            if not await self._store_retrying(lambda: self._holds(target.url)):  # renewed before each try
                return False
            # Shielded: a worker stopped mid-attempt lets it finish, so a 2xx is marked before the store closes.
            attempt = asyncio.create_task(self._attempt(target, row, content))
            self._inflight.add(attempt)
            attempt.add_done_callback(self._inflight.discard)
            error = await asyncio.shield(attempt)
            if error is None:
                return True
            failures += 1
            if failures == 1 or failures % 10 == 0:
                logger.warning(
                    "webhook %s not delivered (%s), try %d; retrying",
                    target.url,
                    error,
                    row.attempts + failures,
                    extra={"error": "webhook_delivery"},
                )
            await self._store_retrying(lambda: self._outbox.failed(row.seq))
            await self._sleep(self._schedule.delay(failures))

    async def _attempt(self, target: WebhookSetting, row: OutboxRow, content: bytes) -> str | None:
        """One POST of `row`, marked delivered on a 2xx; the error, or None when it was delivered."""
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            EVENT_ID_HEADER: row.event_id,
            EVENT_TYPE_HEADER: str(row.body.get("type", "")),
            SIGNATURE_HEADER: signature(target.secret.get_secret_value(), timestamp, content),
        }
        error: str | None = None
        try:
            response = await self._client.post(target.url, content=content, headers=headers)
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if error is None:
            try:
                await self._outbox.delivered(row.seq, self._clock())
            except Exception as exc:  # sent again later: the receiver deduplicates by event id
                logger.warning("webhook delivery not recorded: %s", exc)
        await self._counted(error is not None)
        return error

    async def _store_retrying(self, write: Callable[[], Awaitable[T]]) -> T:
        failures = 0
        while True:
            try:
                return await write()
            except Exception as exc:
                failures += 1
                logger.warning("webhook outbox not updated: %s", exc)
                await self._sleep(self._schedule.delay(failures))

    async def _counted(self, failed: bool) -> None:
        async with self.changed:
            self.attempts += 1
            self.failures += failed
            self.changed.notify_all()
