"""A voxhub app per test, sharing one set of real engines loaded once for the whole test session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.live import live_server
from tests.api.sockets import Start
from voxhub.api.state import ServerState
from voxhub.config import Settings, load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app


@dataclass
class Server:
    """A running app: talk to it with `client`, look inside with `state`."""

    client: httpx.AsyncClient
    state: ServerState
    settings: Settings
    app: FastAPI


ServeFactory = Callable[..., AbstractAsyncContextManager[Server]]


@pytest.fixture
def serve(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> ServeFactory:
    """`async with serve(setting=value, ...) as server:` runs an app (start-up and shutdown included)."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Server]:
        settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, **overrides)
        pool = engine_pool
        if settings.llm_engine != engine_pool.settings.llm_engine:
            # Another LLM (the OpenAI test double, say) with the run's loaded speech engines.
            shared = Engines(
                **{stage: await engine_pool.get(stage) for stage in ("vad", "stt", "tts", "wake")}
            )
            pool = EnginePool(settings, shared)
        app = create_app(settings, engines=pool)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://voxhub.test") as client,
        ):
            yield Server(client, app.state.voxhub, settings, app)

    return start


@pytest.fixture
async def server(serve: ServeFactory) -> AsyncIterator[Server]:
    """An app with default settings (no auth, no CORS)."""
    async with serve() as running:
        yield running


@pytest.fixture
def client(server: Server) -> httpx.AsyncClient:
    return server.client


@pytest.fixture
def start(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> Start:
    """`async with start(setting=value) as url:` runs a live server; `url` is its http base."""

    def run(**overrides: Any) -> AbstractAsyncContextManager[str]:
        settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, **overrides)
        return live_server(settings, engine_pool)

    return run


@pytest.fixture
async def base_url(start: Start) -> AsyncIterator[str]:
    async with start() as url:
        yield url
