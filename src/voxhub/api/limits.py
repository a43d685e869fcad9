"""Limits: the connection cap, the request body size, and the WebSocket control-message rate."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Final

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxhub.api.clients import CLIENT_ADDRESS
from voxhub.api.errors import BodyTooLarge, ServerBusy, TooManyRequests, error_response

WEBSOCKET: Final = "websocket"  # a live WebSocket connection
TURN: Final = "turn"  # one HTTP request doing engine work (a one-shot or a conversation turn)
RESERVED: Final = "reserved"  # a slot `POST /connect` holds for a WebSocket that has not arrived yet


class ConnectionTracker:
    """Counts connections against `max_connections`; single event loop, so no lock is needed."""

    def __init__(
        self,
        max_connections: int,
        clock: Callable[[], float] = time.monotonic,
        client_rates: ClientRates | None = None,
    ) -> None:
        self.max_connections = max_connections
        self._clock = clock
        self.client_rates = client_rates  # turns one client address may start; None: no limit
        # The same budget kept for every instance (Redis, with `redis_url`): the seconds to wait, or None.
        self.shared_rates: Callable[[str], Awaitable[float | None]] | None = None
        self.active = 0
        self.peak = 0
        self.total = 0
        self.rejected = 0
        self.active_by_kind: dict[str, int] = {}
        self._duration_sum: dict[str, float] = {}
        self._duration_count: dict[str, int] = {}
        self._reservations: dict[str, float] = {}  # reservation id → when it lapses (clock time)

    def try_acquire(self, kind: str = WEBSOCKET) -> bool:
        """Take a slot, or count a rejection and return False when all are taken."""
        self._lapse_reservations()
        if self.active >= self.max_connections:
            self.rejected += 1
            return False
        self.active += 1
        self.total += 1
        self.peak = max(self.peak, self.active)
        self.active_by_kind[kind] = self.active_by_kind.get(kind, 0) + 1
        return True

    def release(self, kind: str = WEBSOCKET, *, duration_secs: float | None = None) -> None:
        """Give a slot back; `duration_secs` feeds the average duration of `kind`."""
        self.active = max(0, self.active - 1)
        self.active_by_kind[kind] = max(0, self.active_by_kind.get(kind, 0) - 1)
        if duration_secs is not None:
            self._duration_sum[kind] = self._duration_sum.get(kind, 0.0) + duration_secs
            self._duration_count[kind] = self._duration_count.get(kind, 0) + 1

    @contextmanager
    def slot(self, kind: str = WEBSOCKET) -> Iterator[None]:
        """Hold a slot for the block and record its duration.

        Raises TooManyRequests (429) when a turn is over its client's budget, ServerBusy (503) when no slot
        is free.
        """
        client = CLIENT_ADDRESS.get()
        if kind == TURN and self.client_rates is not None and client is not None:
            wait_secs = self.client_rates.retry_after_secs(client)
            if wait_secs is not None:
                raise TooManyRequests(
                    f"too many turns from {client}; try again in {wait_secs:.1f} s",
                    retry_after_secs=wait_secs,
                )
        if not self.try_acquire(kind):
            raise ServerBusy(
                f"server at capacity: {self.active} of {self.max_connections} connections in use",
                details=self.capacity(),
            )
        started = self._clock()
        try:
            yield
        finally:
            self.release(kind, duration_secs=self._clock() - started)

    @asynccontextmanager
    async def turn_slot(self) -> AsyncIterator[None]:
        """`slot(TURN)`, after the client's turn budget shared by the cluster (with `redis_url`)."""
        client = CLIENT_ADDRESS.get()
        if self.shared_rates is not None and client is not None:
            wait_secs = await self.shared_rates(client)
            if wait_secs is not None:
                raise TooManyRequests(
                    f"too many turns from {client}; try again in {wait_secs:.1f} s",
                    retry_after_secs=wait_secs,
                )
        with self.slot(TURN):
            yield

    def reserve(self, lease_secs: float) -> str | None:
        """Hold a slot for a client about to connect; its id, or None at capacity.

        An unclaimed reservation gives its slot back after `lease_secs`, so a client that never comes
        holds nothing for long.
        """
        if not self.try_acquire(RESERVED):
            return None
        reservation = secrets.token_urlsafe(16)
        self._reservations[reservation] = self._clock() + lease_secs
        return reservation

    def claim(self, reservation: str, kind: str = WEBSOCKET) -> bool:
        """Turn a live reservation into a `kind` slot; False when it is unknown or has lapsed."""
        self._lapse_reservations()
        if self._reservations.pop(reservation, None) is None:
            return False
        self.active_by_kind[RESERVED] -= 1
        self.active_by_kind[kind] = self.active_by_kind.get(kind, 0) + 1
        return True

    def _lapse_reservations(self) -> None:
        if not self._reservations:
            return
        now = self._clock()
        for reservation in [key for key, until in self._reservations.items() if until <= now]:
            del self._reservations[reservation]
            self.release(RESERVED)

    def average_duration_secs(self, kind: str = WEBSOCKET) -> float:
        count = self._duration_count.get(kind, 0)
        return self._duration_sum.get(kind, 0.0) / count if count else 0.0

    @property
    def usage_percent(self) -> float:
        return 100.0 * self.active / self.max_connections

    def capacity(self) -> dict[str, Any]:
        """Seed 001's capacity figures, for /health and 503 bodies."""
        self._lapse_reservations()
        return {
            "active_connections": self.active,
            "max_connections": self.max_connections,
            "capacity_usage": f"{self.usage_percent:.1f}%",
        }


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, before reading past the limit.

    A Content-Length over the limit is refused at once; otherwise the bytes are counted as they stream
    in, so a missing or lying Content-Length gets the same answer.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _too_large_response(BodyTooLarge(self.max_bytes, declared))(scope, receive, send)
            return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes, received)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            # Reached only when the reader has no handler for it (FastAPI's routes have one).
            if response_started:
                raise
            await _too_large_response(exc)(scope, receive, send)


def _too_large_response(exc: BodyTooLarge) -> JSONResponse:
    return error_response(413, "payload_too_large", str(exc.detail), exc.details)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RateLimiter:
    """Token bucket: `rate_per_sec` on average, bursts up to `burst` (default twice the rate)."""

    def __init__(
        self, rate_per_sec: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_sec = rate_per_sec
        self.burst = burst if burst is not None else 2 * rate_per_sec
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()

    def allow(self) -> bool:
        """Spend one token if there is one."""
        return self.spend(1.0)

    def wait_secs(self, amount: float) -> float:
        """Seconds until `amount` tokens are there (0 when they are now)."""
        return max(0.0, amount - self._tokens) / self.rate_per_sec

    def spend(self, amount: float) -> bool:
        """Spend `amount` tokens if there are that many (a byte budget spends one per byte)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_sec)
        self._updated = now
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        return False


class ClientRates:
    """A token bucket per client address, for the turns each may start; remembers `max_clients` at most.

    A client forgotten to make room comes back with a full bucket: a loss of strictness, never of service.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 4096,
    ) -> None:
        self._rate_per_sec = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, RateLimiter] = OrderedDict()

    def retry_after_secs(self, client: str) -> float | None:
        """Spend one turn of `client`'s budget: None when it had one, else the seconds until it will."""
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = RateLimiter(self._rate_per_sec, self._burst, clock=self._clock)
            if len(self._buckets) >= self._max_clients:
                self._buckets.popitem(last=False)
        self._buckets[client] = bucket
        if bucket.allow():
            return None
        return bucket.wait_secs(1.0)
