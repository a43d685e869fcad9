"""The Wyoming TCP server, in the app's process and event loop; started and stopped with the app.

Everything is offered on `wyoming_port`; `wyoming_stt_port`, `wyoming_tts_port` and `wyoming_wake_port`
add a listener each that describes only that service, as the separate Whisper, Piper and openWakeWord
add-ons do (Home Assistant then adds one Wyoming entry per service). With `auth_token` set, every listener
binds loopback unless `wyoming_allow_remote` is on (see `access`); the start-up log says which and why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from wyoming.event import Event
from wyoming.info import Info
from wyoming.server import AsyncTcpServer

from voxhub.config import env_name
from voxhub.errors import ConfigError
from voxhub.protocols.wyoming.access import listen_address
from voxhub.protocols.wyoming.admission import ClientLimit
from voxhub.protocols.wyoming.discovery import advertise
from voxhub.protocols.wyoming.handler import Connection
from voxhub.protocols.wyoming.info import describe

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

logger = logging.getLogger(__name__)

Service = Literal["asr", "tts", "wake"]
# setting -> the one service its listener describes
SERVICE_PORTS: dict[str, Service] = {
    "wyoming_stt_port": "asr",
    "wyoming_tts_port": "tts",
    "wyoming_wake_port": "wake",
}


class _OneService(Connection):
    """A connection on a per-service port: `describe` names only that service."""

    service: Service = "asr"

    async def handle_event(self, event: Event) -> bool:
        if event.type != "describe":
            return await super().handle_event(event)
        info = await describe(self._state)
        await self.write_event(Info(**{self.service: getattr(info, self.service)}).event())
        return True


async def start(state: ServerState) -> Callable[[], Awaitable[None]]:
    """Listen on `wyoming_host`:`wyoming_port` and each per-service port set (unless `wyoming_enabled` is off);
    returns the stop function."""
    settings = state.settings
    if not settings.wyoming_enabled:
        return _nothing_to_stop
    address = listen_address(settings, settings.wyoming_port)
    host = address.host
    if address.warning is not None:
        logger.warning(address.warning, extra={"host": host, "port": settings.wyoming_port})
    clients = ClientLimit(settings.wyoming_max_connections_per_client)
    tasks: set[asyncio.Task[None]] = set()
    servers: list[AsyncTcpServer] = []
    listeners: list[tuple[str, int, Service | None]] = [("wyoming_port", settings.wyoming_port, None)]
    for name, only in SERVICE_PORTS.items():
        extra: int | None = getattr(settings, name)
        if extra is not None:
            listeners.append((name, extra, only))
    try:
        for setting, port, service in listeners:
            servers.append(await _listen(state, host, port, setting, service, (tasks, clients)))
    except ConfigError:
        for server in servers:
            await server.stop()
        raise
    withdraw = await advertise(host, settings.wyoming_port) if settings.wyoming_zeroconf else None

    async def stop() -> None:
        if withdraw is not None:
            await withdraw()
        for server in servers:
            await server.stop()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        logger.info("wyoming server stopped")

    return stop


async def _listen(
    state: ServerState,
    host: str,
    port: int,
    setting: str,
    service: Service | None,
    shared: tuple[set[asyncio.Task[None]], ClientLimit],
) -> AsyncTcpServer:
    tasks, clients = shared

    def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Connection:
        if service is None:
            return Connection(state, reader, writer, tasks, clients)
        one = _OneService(state, reader, writer, tasks, clients)
        one.service = service
        return one

    server = AsyncTcpServer(host, port)
    try:
        await server.start(connection)
    except OSError as exc:
        raise ConfigError(
            f"{setting} ({env_name(setting)}): cannot listen on {host}:{port}: {exc.strerror}; "
            f"choose another port, or set {env_name('wyoming_enabled')}=false",
            details={"setting": setting, "host": host, "port": port},
        ) from exc
    logger.info("wyoming server listening", extra={"host": host, "port": port, "service": service or "all"})
    return server


async def _nothing_to_stop() -> None:
    """The server was switched off."""
