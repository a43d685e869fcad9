"""One live voxhub (HTTP app plus its Wyoming side server) shared by this directory's tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

from tests.api.live import free_port, live_server
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool


@dataclass(frozen=True)
class Voxhub:
    http_url: str
    wyoming_port: int

    def client(self) -> AsyncTcpClient:
        return AsyncTcpClient("127.0.0.1", self.wyoming_port)


@asynccontextmanager
async def serve_wyoming(
    data_dir: Path, models_dir: Path, engine_pool: EnginePool, **overrides: Any
) -> AsyncIterator[Voxhub]:
    """A live voxhub with its Wyoming server on a free port, with these settings."""
    port = free_port()
    settings = load_settings(
        data_dir=data_dir, models_dir=models_dir, wyoming_enabled=True, wyoming_port=port, **overrides
    )
    async with live_server(settings, engine_pool) as url:
        yield Voxhub(url, port)


@pytest.fixture(scope="module")
async def voxhub(
    tmp_path_factory: pytest.TempPathFactory,
    models_dir: Path,
    engine_pool: EnginePool,
) -> AsyncIterator[Voxhub]:
    async with serve_wyoming(tmp_path_factory.mktemp("data"), models_dir, engine_pool) as running:
        yield running


async def read_until(client: AsyncTcpClient, *types: str, timeout_secs: float = 30.0) -> list[Event]:
    """Every event received, up to and including the first of `types` (fails if the stream ends first)."""
    received: list[Event] = []
    async with asyncio.timeout(timeout_secs):
        while True:
            event = await client.read_event()
            assert event is not None, (
                f"the server closed the connection; received {[e.type for e in received]}"
            )
            received.append(event)
            if event.type in types:
                return received
