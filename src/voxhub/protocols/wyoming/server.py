"""The Wyoming TCP server, in the app's process and event loop; started and stopped with the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from wyoming.server import AsyncTcpServer

from voxhub.config import env_name
from voxhub.errors import ConfigError
from voxhub.protocols.wyoming.discovery import advertise
from voxhub.protocols.wyoming.handler import Connection

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

logger = logging.getLogger(__name__)


async def start(state: ServerState) -> Callable[[], Awaitable[None]]:
    """Listen on `wyoming_host`:`wyoming_port` (unless `wyoming_enabled` is off); returns the stop function."""
    settings = state.settings
    if not settings.wyoming_enabled:
        return _nothing_to_stop
    host = settings.wyoming_host or settings.host
    port = settings.wyoming_port
    tasks: set[asyncio.Task[None]] = set()

    def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Connection:
        return Connection(state, reader, writer, tasks)

    server = AsyncTcpServer(host, port)
    try:
        await server.start(connection)
    except OSError as exc:
        raise ConfigError(
            f"wyoming_port ({env_name('wyoming_port')}): cannot listen on {host}:{port}: {exc.strerror}; "
            f"choose another port, or set {env_name('wyoming_enabled')}=false",
            details={"setting": "wyoming_port", "host": host, "port": port},
        ) from exc
    withdraw = await advertise(host, port) if settings.wyoming_zeroconf else None
    logger.info("wyoming server listening", extra={"host": host, "port": port})

    async def stop() -> None:
        if withdraw is not None:
            await withdraw()
        await server.stop()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        logger.info("wyoming server stopped")

    return stop


async def _nothing_to_stop() -> None:
    """The server was switched off."""
