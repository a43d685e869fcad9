"""A live voxhub server per test (real engines, loaded once per test session), for a real browser to use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.api.live import live_server, serve_asgi
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app

Start = Callable[..., AbstractAsyncContextManager[str]]


@pytest.fixture
def start(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> Start:
    """`async with start(setting=value) as url:` runs a server; `url` is its http base."""

    def run(**overrides: Any) -> AbstractAsyncContextManager[str]:
        settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, **overrides)
        return live_server(settings, engine_pool)

    return run


@pytest.fixture
def start_behind_prefix(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> Start:
    """Like `start`, with the app mounted under `/voxhub/` as a reverse proxy would serve it."""

    @asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[str]:
        settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, **overrides)
        app = create_app(settings, engines=engine_pool)

        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            async with app.router.lifespan_context(app):  # a mounted app's own start-up does not run
                yield

        async with serve_app(Starlette(routes=[Mount("/voxhub", app=app)], lifespan=lifespan)) as url:
            yield url + "/voxhub"

    return run


@asynccontextmanager
async def serve_app(app: Starlette) -> AsyncIterator[str]:
    """Serve any ASGI app on a free loopback port (tests/api/live.py serves voxhub's app as it is)."""
    async with serve_asgi(app) as url:
        yield url
