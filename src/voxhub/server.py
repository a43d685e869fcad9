"""The composition root: the API with every protocol adapter, the Wyoming server and the web client."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from voxhub.api.app import create_app as create_api_app
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
