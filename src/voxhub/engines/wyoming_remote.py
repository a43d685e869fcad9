"""What the `wyoming` engines share: where the server is, and one request's connection with clear errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info

from voxhub.config import env_name
from voxhub.errors import ConfigError, EngineError

if TYPE_CHECKING:
    from voxhub.config import Settings


@dataclass(frozen=True, slots=True)
class RemoteAddress:
    host: str
    port: int
    what: str  # "STT", for messages

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"


def remote_address(settings: Settings, stage: str, what: str) -> RemoteAddress:
    """`<stage>_wyoming_host` and `_port`; the host may be a `tcp://host:port` URI (its port wins)."""
    setting = f"{stage}_wyoming_host"
    host: str | None = getattr(settings, setting)
    port: int = getattr(settings, f"{stage}_wyoming_port")
    if not host:
        raise ConfigError(
            f"{setting} ({env_name(setting)}) is not set: the remote Wyoming server's host or"
            " tcp://host:port",
            details={"setting": setting},
        )
    if "://" in host:
        parts = urlsplit(host)
        if parts.scheme != "tcp" or not parts.hostname:
            raise ConfigError(
                f"{setting} ({env_name(setting)}): expected a host or tcp://host:port, got {host!r}",
                details={"setting": setting},
            )
        return RemoteAddress(parts.hostname, parts.port or port, what)
    return RemoteAddress(host, port, what)


class RemoteClient:
    """Opens one connection per request (as Home Assistant does); every failure is an EngineError naming
    the server, never a hang: each read waits at most `timeout_secs`."""

    def __init__(self, address: RemoteAddress, timeout_secs: float) -> None:
        self.address = address
        self.timeout_secs = timeout_secs

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[Connection]:
        client = AsyncTcpClient(self.address.host, self.address.port)
        try:
            async with asyncio.timeout(self.timeout_secs):
                await client.connect()
        except (OSError, TimeoutError) as exc:
            raise self.error(f"cannot connect ({_reason(exc)})") from None
        try:
            yield Connection(self, client)
        except (OSError, ConnectionError) as exc:
            raise self.error(f"the connection failed ({_reason(exc)})") from None
        finally:
            with suppress(OSError):
                await client.disconnect()

    async def describe(self) -> Info:
        async with self.connected() as connection:
            await connection.write(Describe().event())
            while True:
                event = await connection.read()
                if Info.is_type(event.type):
                    return Info.from_event(event)

    def error(self, problem: str) -> EngineError:
        a = self.address
        return EngineError(
            f"the remote {a.what} engine at {a.uri}: {problem}",
            details={"engine": "wyoming", "server": a.uri},
        )


class Connection:
    def __init__(self, remote: RemoteClient, client: AsyncTcpClient) -> None:
        self._remote = remote
        self._client = client

    async def write(self, event: Event) -> None:
        await self._client.write_event(event)

    async def read(self, busy: asyncio.Future[None] | None = None) -> Event:
        """The next event; EngineError when the server closes, goes quiet, or answers with `error`.

        While `busy` (the audio still being sent) is not done, the server may be silent for as long as it
        takes; the timeout counts from then on. A failure of `busy` is raised.
        """
        reading = asyncio.ensure_future(self._client.read_event())
        try:
            if busy is not None and not busy.done():
                either: set[asyncio.Future[Any]] = {reading, busy}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                if busy.done() and busy.exception() is not None:
                    raise busy.exception()  # type: ignore[misc]
            try:
                async with asyncio.timeout(self._remote.timeout_secs):
                    event = await asyncio.shield(reading)
            except TimeoutError:
                raise self._remote.error(f"no answer within {self._remote.timeout_secs:g} s") from None
        finally:
            if not reading.done():
                reading.cancel()
        if event is None:
            raise self._remote.error("the server closed the connection")
        if Error.is_type(event.type):
            error = Error.from_event(event)
            raise self._remote.error(f"the server answered {error.code or 'error'}: {error.text}")
        return event


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__
