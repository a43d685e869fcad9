"""The composition root: the API with every protocol adapter, the Wyoming server and the web client."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from voxhub.api.app import create_app as create_api_app
from voxhub.api.slow_clients import SlowClientLimits, guarded_http_protocol
from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.protocols import compat, compat_ws, openai_http, realtime
from voxhub.protocols.wyoming import server as wyoming
from voxhub.web import mount_web_client

# (router, needs the bearer token): WebSocket routes check the token themselves, since a browser's
# handshake can carry it only as a query parameter.
PROTOCOL_ROUTERS: tuple[tuple[APIRouter, bool], ...] = (
    (openai_http.router, True),
    (compat.router, True),  # the earlier servers' HTTP routes
    (compat_ws.router, False),  # their WebSocket routes
    (realtime.router, False),  # OpenAI Realtime
)


def create_app(settings: Settings, *, engines: EnginePool | None = None) -> FastAPI:
    """The whole server; `engines` given here are shared and left open at shutdown (tests load them once)."""
    app = create_api_app(settings, engines=engines, routers=PROTOCOL_ROUTERS, side_servers=(wyoming.start,))
    mount_web_client(app)
    return app


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
