"""Slow and greedy HTTP clients: a deadline on request headers, a minimum body rate, a cap per address.

uvicorn keeps a connection as long as bytes trickle in, so half-sent headers or a body fed a byte every
ten seconds hold a socket (and a file descriptor) for ever, and a few hundred of them starve everyone.
`guarded_http_protocol` wraps uvicorn's HTTP protocol (httptools or h11) with the rules nginx applies:

- the headers of a request must be complete within `read_timeout_secs` of its first byte (or of the
  connection, or of the previous response): else 408 and close;
- while a body is arriving, each `read_timeout_secs` window must bring `min_body_bytes_per_sec` × the
  window (unless uvicorn itself paused reading because the app is not reading): else 408 and close;
- one client address holds at most `max_per_client` open connections (WebSockets included); the next
  gets 429 and is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from dataclasses import dataclass
from typing import Any

from voxhub.api.errors import error_body

logger = logging.getLogger(__name__)
_SWEEP_EVERY = 1024  # connections between two sweeps of addresses whose connections all closed


@dataclass(frozen=True, slots=True)
class SlowClientLimits:
    read_timeout_secs: float = 10.0
    min_body_bytes_per_sec: float = 1024.0
    max_per_client: int = 64


def guarded_http_protocol(limits: SlowClientLimits, base: type[asyncio.Protocol] | None = None) -> type[Any]:
    """A uvicorn HTTP protocol class (for `uvicorn.Config(http=...)`) that enforces `limits`."""
    if base is None:
        base = _default_protocol()
    live: dict[str, set[asyncio.BaseTransport]] = {}  # client address → its open connections
    made = 0

    class GuardedProtocol(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.Transport) -> None:
            nonlocal made
            super().connection_made(transport)
            self._guard_bytes = 0
            self._guard_timer: asyncio.TimerHandle | None = None
            peer = transport.get_extra_info("peername")
            address = str(peer[0]) if isinstance(peer, tuple) and peer else None
            made += 1
            if made % _SWEEP_EVERY == 0:
                _sweep(live)
            if address is not None:
                mine = {other for other in live.get(address, ()) if not other.is_closing()}
                if len(mine) >= limits.max_per_client:
                    live[address] = mine
                    logger.warning(
                        "refused a connection: %s already holds %d",
                        address,
                        len(mine),
                        extra={"client": address},
                    )
                    self._guard_refuse(
                        429, "too_many_connections", f"{address} already holds {len(mine)} connections"
                    )
                    return
                mine.add(transport)
                live[address] = mine
            self._guard_arm()

        def data_received(self, data: bytes) -> None:
            self._guard_bytes += len(data)
            super().data_received(data)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._guard_arm()  # the next request's headers get a fresh deadline

        def connection_lost(self, exc: Exception | None) -> None:
            if self._guard_timer is not None:
                self._guard_timer.cancel()
            super().connection_lost(exc)

        def _guard_arm(self) -> None:
            if self._guard_timer is not None:
                self._guard_timer.cancel()
            self._guard_bytes = 0
            loop = asyncio.get_running_loop()
            self._guard_timer = loop.call_later(limits.read_timeout_secs, self._guard_check)

        def _guard_check(self) -> None:
            self._guard_timer = None
            transport = self.transport
            if transport.is_closing() or transport.get_protocol() is not self:
                return  # closed, or upgraded to a WebSocket (which has its own idle rules)
            cycle = getattr(self, "cycle", None)
            if cycle is None or cycle.response_complete:
                self._guard_refuse(408, "request_timeout", "the request headers took too long")
                return
            reading_body = cycle.more_body and not self.flow.read_paused
            window_bytes = limits.min_body_bytes_per_sec * limits.read_timeout_secs
            if reading_body and self._guard_bytes < window_bytes:
                if not cycle.response_started:
                    self._guard_refuse(408, "request_timeout", "the request body arrives too slowly")
                else:
                    transport.close()
                return
            self._guard_bytes = 0
            self._guard_timer = asyncio.get_running_loop().call_later(
                limits.read_timeout_secs, self._guard_check
            )

        def _guard_refuse(self, status: int, code: str, message: str) -> None:
            body = json.dumps(error_body(status, code, message)).encode()
            reason = "Request Timeout" if status == 408 else "Too Many Requests"
            head = (
                f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
            self.transport.close()

    return GuardedProtocol


def _default_protocol() -> type[asyncio.Protocol]:
    """The protocol uvicorn's `http="auto"` picks: httptools when it is installed, else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools ships with uvicorn[standard]
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    return HttpToolsProtocol


def _sweep(live: dict[str, set[asyncio.BaseTransport]]) -> None:
    for address in list(live):
        open_ones = {transport for transport in live[address] if not transport.is_closing()}
        if open_ones:
            live[address] = open_ones
        else:
            del live[address]


def raise_open_files_limit() -> int:
    """Lift the soft limit on open files to the hard one (1,024 is a common soft default); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft
