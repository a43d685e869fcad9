"""The FastAPI app: routes, middleware, error handlers, and the start-up and shutdown of engines and sessions."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from voxhub import __version__
from voxhub.agent.assistant import Assistant
from voxhub.api.auth import require_auth
from voxhub.api.errors import CatchUnexpected, install_error_handlers
from voxhub.api.limits import BodySizeLimit, ConnectionTracker
from voxhub.api.logging import AccessLog
from voxhub.api.metrics import Metrics
from voxhub.api.routes import autofunctions, notes, oneshot, personas, profiles, sessions, system
from voxhub.api.state import ServerState
from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.errors import ConfigError, VoxhubError
from voxhub.sessions.manager import SessionManager
from voxhub.sessions.store import SessionStore

logger = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent.parent / "web"  # the browser client: static files, no build step

# (module, needs the bearer-token dependency): WebSocket routes check the token themselves, since a
# handshake can carry it only as a query parameter from a browser.
_OPTIONAL_ROUTERS = (
    ("voxhub.api.routes.conversation", True),
    ("voxhub.api.websocket", False),
    ("voxhub.protocols.openai_http", True),
    ("voxhub.protocols.compat", True),  # the earlier servers' HTTP routes
    ("voxhub.protocols.compat_ws", False),  # their WebSocket routes (token checked per connection)
    ("voxhub.protocols.realtime", False),  # OpenAI Realtime over WebSocket
)
# Protocol servers on their own ports, started and stopped with the app: a module with
# `async def start(state: ServerState) -> Callable[[], Awaitable[None]]` (returns its stop function).
_SIDE_SERVERS = ("voxhub.protocols.wyoming.server",)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def _side_server_starters() -> list[Callable[[ServerState], Awaitable[Callable[[], Awaitable[None]]]]]:
    return [importlib.import_module(name).start for name in _SIDE_SERVERS if _module_exists(name)]


def database_path(settings: Settings) -> Path:
    """The SQLite file for sessions: `database_url` as `sqlite:///path`, else `<data_dir>/voxhub.db`."""
    url = settings.database_url
    if not url:
        return settings.sqlite_path
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    raise ConfigError(
        f"database_url (VOXHUB_DATABASE_URL): only sqlite:///<path> is supported, got {url!r}",
        details={"setting": "database_url"},
    )


def create_app(settings: Settings, *, engines: EnginePool | None = None) -> FastAPI:
    """The server app; `engines` given here are shared and left open at shutdown (tests load them once)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        path = database_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        store = await SessionStore.open(path)
        pool = engines
        try:
            if pool is None:
                try:
                    pool = await EnginePool.load(settings)
                except VoxhubError as exc:
                    # uvicorn logs the traceback next; this line is the reason in one sentence.
                    logger.error("cannot start: %s", exc.message, extra={"error": exc.code})
                    raise
            manager = SessionManager(store, settings)
            tracker = ConnectionTracker(settings.max_connections)
            metrics = Metrics(settings, tracker, lambda: manager.active_count)
            assistant = await Assistant.load(settings, store, lambda: pool.get("llm"))
            app.state.voxhub = ServerState(
                settings, pool, manager, tracker, metrics, started_at=time.time(), assistant=assistant
            )
            manager.start_cleanup()
            stops = [await start(app.state.voxhub) for start in _side_server_starters()]
            logger.info(
                "voxhub ready",
                extra={
                    "engines": pool.loaded(),
                    "database": str(path),
                    "max_connections": settings.max_connections,
                },
            )
            try:
                yield
            finally:
                for stop in reversed(stops):
                    await stop()
                await manager.stop_cleanup()
                await assistant.aclose()
        finally:
            if engines is None and pool is not None:
                await pool.aclose()
            await store.close()
            logger.info("voxhub stopped")

    # The docs routes are added with the others below, so they need the token too when auth is on.
    app = FastAPI(
        title="voxhub",
        version=__version__,
        description="Self-hosted real-time voice and text conversation server.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    # Added innermost first: requests pass AccessLog, CORS, BodySizeLimit, CatchUnexpected, then the routes.
    app.add_middleware(CatchUnexpected)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials="*" not in settings.cors_origins,
        )
    app.add_middleware(AccessLog)

    authorized = [Depends(require_auth)]
    app.include_router(system.public_router)
    for module in (system, sessions, profiles, oneshot, personas, notes, autofunctions):
        app.include_router(module.router, dependencies=authorized)
    # The lead owns the conversation routes and the WebSocket endpoints; they join once their modules exist.
    for module_name, protected in _OPTIONAL_ROUTERS:
        if _module_exists(module_name):
            router = importlib.import_module(module_name).router
            app.include_router(router, dependencies=authorized if protected else None)
    app.router.routes.insert(0, _BrowserPage("/", _web_page, methods=["GET"], include_in_schema=False))
    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")
    return app


class _BrowserPage(Route):
    """`/` for a browser (it accepts text/html): the web client, public like any login page; other clients
    fall through to the JSON links at `/`."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        accept = dict(scope.get("headers") or []).get(b"accept", b"")
        if scope["type"] != "http" or b"text/html" not in accept:
            return Match.NONE, {}
        return super().matches(scope)


async def _web_page(request: Request) -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})
