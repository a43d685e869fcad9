"""The composition root: the API with every protocol adapter, the Wyoming server and the web client."""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from voxhub.api.app import create_app as create_api_app
from voxhub.api.slow_clients import SlowClientLimits, guarded_http_protocol
from voxhub.config import Settings, env_name
from voxhub.engines.pool import EnginePool
from voxhub.engines.registry import Stage
from voxhub.errors import ConfigError, VoxhubError
from voxhub.protocols import compat, compat_ws, native_events, openai_http, realtime
from voxhub.protocols.wyoming import server as wyoming
from voxhub.protocols.wyoming.access import listen_address
from voxhub.web import mount_web_client

logger = logging.getLogger(__name__)

# (router, needs the bearer token): WebSocket routes check the token themselves, since a browser's
# handshake can carry it only as a query parameter.
PROTOCOL_ROUTERS: tuple[tuple[APIRouter, bool], ...] = (
    (openai_http.router, True),
    (compat.router, True),  # the earlier servers' HTTP routes
    (compat_ws.router, False),  # their WebSocket routes
    (realtime.router, False),  # OpenAI Realtime
)


def create_app(settings: Settings, *, engines: EnginePool | None = None) -> FastAPI:
    """The whole server; `engines` given here are shared and left open at shutdown (tests load them once).

    Each configured engine logs a line as it starts loading and one with its time when ready. A voxhub
    error that stops the start-up is kept for `startup_error` (the CLI exits 2 on it)."""
    loading = _EngineLoadLog()
    app = create_api_app(
        settings,
        engines=engines,
        routers=PROTOCOL_ROUTERS,
        side_servers=(native_events.start, wyoming.start),  # stopped in reverse: events flushed last
        load_progress=loading,
    )
    app.state.startup_error = None
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        started = False
        try:
            async with inner(app_) as state:
                started = True
                yield state
        except VoxhubError as exc:
            if not started:
                app.state.startup_error = exc
                if not loading.pending:  # the API logs an engine's failure itself
                    logger.error("cannot start: %s", exc.message, extra={"error": exc.code})
            raise

    app.router.lifespan_context = lifespan
    mount_web_client(app)
    return app


def startup_error(app: FastAPI) -> VoxhubError | None:
    """The voxhub error that stopped `app` from starting, if one did."""
    error: VoxhubError | None = getattr(app.state, "startup_error", None)
    return error


class _EngineLoadLog:
    """A `LoadProgress` that logs `loading stt engine whisper` and `stt engine whisper ready in 3.2 s`."""

    def __init__(self) -> None:
        self.pending: dict[Stage, float] = {}  # stages still loading -> when they began

    def __call__(self, stage: Stage, name: str, finished: bool) -> None:
        fields = {"stage": stage, "engine": name}
        if not finished:
            self.pending[stage] = time.perf_counter()
            logger.info("loading %s engine %s", stage, name, extra=fields)
            return
        secs = time.perf_counter() - self.pending.pop(stage)
        logger.info(
            "%s engine %s ready in %.1f s", stage, name, secs, extra={**fields, "load_secs": round(secs, 3)}
        )


def check_ports(settings: Settings) -> None:
    """Raise one ConfigError if a port voxhub will listen on is taken, before any engine loads."""
    listeners = [("port", settings.host, settings.port)]
    if settings.wyoming_enabled:
        for setting in ("wyoming_port", *wyoming.SERVICE_PORTS):
            port: int | None = getattr(settings, setting)
            if port is not None:
                listeners.append((setting, listen_address(settings, port).host, port))
    for setting, host, port in listeners:
        try:
            socket.create_server((host, port)).close()  # SO_REUSEADDR, as uvicorn and asyncio bind
        except OSError as exc:
            taken = exc.errno == errno.EADDRINUSE
            reason = "is already in use" if taken else f"cannot be opened ({exc.strerror or exc})"
            raise ConfigError(
                f"{setting} ({env_name(setting)}): {host}:{port} {reason}; "
                + ("stop what holds it or choose another port" if taken else "check the host setting"),
                details={"setting": setting, "host": host, "port": port},
            ) from None


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings for voxhub (`uvicorn.Config(app, host=..., port=..., **server_options(s))`)."""
    limits = SlowClientLimits(
        read_timeout_secs=settings.http_read_timeout_secs,
        min_body_bytes_per_sec=settings.http_min_body_bytes_per_sec,
        max_per_client=settings.max_connections_per_client,
    )
    return {
        "http": guarded_http_protocol(limits),
        "ws_ping_interval": settings.ws_ping_interval_secs,
        "ws_ping_timeout": settings.connection_timeout_secs,
        # Above voxhub's own limit, so an oversized message gets an `error` event rather than a close;
        # far larger ones are refused by the WebSocket layer before they are buffered.
        "ws_max_size": 4 * settings.max_ws_message_bytes,
        "timeout_graceful_shutdown": 10,
        "ssl_certfile": settings.ssl_certfile,
        "ssl_keyfile": settings.ssl_keyfile,
    }
