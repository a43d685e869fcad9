"""The FastAPI app: routes, middleware, error handlers, and the start-up and shutdown of engines and sessions."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from voxhub import __version__
from voxhub.agent.assistant import Assistant
from voxhub.api import event_stream, websocket
from voxhub.api.auth import require_auth
from voxhub.api.clients import ClientWatch
from voxhub.api.cluster import Cluster, EventBus, instance_name
from voxhub.api.errors import CatchUnexpected, install_error_handlers
from voxhub.api.limits import BodySizeLimit, ClientRates, ConnectionTracker
from voxhub.api.logging import AccessLog
from voxhub.api.metrics import Metrics
from voxhub.api.openapi import document_errors
from voxhub.api.routes import (
    autofunctions,
    conversation,
    notes,
    oneshot,
    personas,
    profiles,
    sessions,
    system,
)
from voxhub.api.state import ServerState
from voxhub.api.webhooks import Webhooks
from voxhub.config import Settings, environment_warnings
from voxhub.engines.loader import LoadProgress
from voxhub.engines.pool import EnginePool
from voxhub.errors import VoxhubError
from voxhub.sessions.checks import EngineChecks
from voxhub.sessions.manager import SessionManager
from voxhub.sessions.store import open_configured_store

logger = logging.getLogger(__name__)

# A protocol server on its own port, started and stopped with the app: returns its stop function.
SideServer = Callable[[ServerState], Awaitable[Callable[[], Awaitable[None]]]]


def create_app(
    settings: Settings,
    *,
    engines: EnginePool | None = None,
    routers: Sequence[tuple[APIRouter, bool]] = (),
    side_servers: Sequence[SideServer] = (),
    load_progress: LoadProgress | None = None,
) -> FastAPI:
    """The API app, plus `routers` (router, needs the bearer token) and `side_servers` from the layers above
    (see `voxhub.server`); `engines` given here are shared and left open at shutdown (tests load them once);
    `load_progress` hears of each configured engine as it starts and ends loading.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for warning in environment_warnings():  # variables voxhub will not read: said, never ignored
            logger.warning(warning)
        store = await open_configured_store(settings)
        pool = engines
        try:
            if pool is None:
                try:
                    pool = await EnginePool.load(settings, progress=load_progress)
                except VoxhubError as exc:
                    # uvicorn logs the traceback next; this line is the reason in one sentence.
                    logger.error("cannot start: %s", exc.message, extra={"error": exc.code})
                    raise
            manager = SessionManager(store, settings)
            manager.checks = EngineChecks(pool)
            rates = None
            if settings.client_turns_per_minute > 0:
                rates = ClientRates(settings.client_turns_per_minute, settings.client_turn_burst)
            tracker = ConnectionTracker(settings.max_connections, client_rates=rates)
            metrics = Metrics(settings, tracker, lambda: manager.active_count)
            assistant = await Assistant.load(settings, store, lambda: pool.get("llm"))
            cluster = Cluster(settings) if settings.redis_url else None
            if cluster is not None:
                await cluster.start()
                tracker.shared_rates = cluster.retry_after_secs
                cluster.registry.on_lost = manager.forget  # its config is re-read when it comes back
            app.state.voxhub = ServerState(
                settings,
                pool,
                manager,
                tracker,
                metrics,
                started_at=time.time(),
                assistant=assistant,
                cluster=cluster,
                events=cluster.bus if cluster is not None else EventBus(instance_name(settings)),
            )
            webhooks = Webhooks.from_settings(settings, store)
            if webhooks is not None:  # webhooks: started here, stopped before the store closes
                await webhooks.start()
                app.state.voxhub.webhooks = webhooks
            manager.start_cleanup()
            stops = [await start(app.state.voxhub) for start in side_servers]
            logger.info(
                "voxhub ready",
                extra={
                    "engines": pool.loaded(),
                    "database": store.location,
                    "max_connections": settings.max_connections,
                    "cluster": cluster.instance if cluster is not None else None,
                },
            )
            try:
                yield
            finally:
                for stop in reversed(stops):
                    await stop()
                await manager.stop_cleanup()
                if cluster is not None:
                    await cluster.aclose()
                await assistant.aclose()
                if webhooks is not None:
                    await webhooks.aclose()
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
    document_errors(app)
    # Added innermost first: requests pass AccessLog, CORS, BodySizeLimit, CatchUnexpected, ClientWatch, then
    # the routes.
    app.add_middleware(ClientWatch)
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
    system.mount_docs_assets(app)
    for module in (system, sessions, profiles, oneshot, personas, notes, autofunctions):
        app.include_router(module.router, dependencies=authorized)
    app.include_router(conversation.router, dependencies=authorized)
    # the sockets check the token themselves (a browser sends it in the query)
    app.include_router(websocket.router)
    app.include_router(event_stream.router)
    for router, protected in routers:
        app.include_router(router, dependencies=authorized if protected else None)
    return app
