"""A real uvicorn server in the test's event loop, for what only a socket shows (WebSocket, close codes)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
import websockets

from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app, server_options


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def live_server(settings: Settings, engines: EnginePool) -> AsyncIterator[str]:
    """Serve voxhub on a free loopback port; yields its base URL (http://127.0.0.1:PORT)."""
    app = create_app(settings, engines=engines)
    async with serve_asgi(app, **server_options(settings)) as url:
        yield url


@asynccontextmanager
async def serve_asgi(app: Any, *, lifespan: str = "on", **options: Any) -> AsyncIterator[str]:
    """Serve any ASGI app with uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan=lifespan,
        **options,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Client:
    """One WebSocket client that keeps every event and audio frame it receives, in order."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.received: list[dict[str, Any] | bytes] = []

    @property
    def events(self) -> list[dict[str, Any]]:
        return [item for item in self.received if isinstance(item, dict)]

    def types(self) -> list[str]:
        return [item["type"] if isinstance(item, dict) else "audio" for item in self.received]

    async def send(self, kind: str, **data: Any) -> None:
        await self.connection.send(json.dumps({"type": kind, "data": data}))

    async def until(self, kind: str, timeout_secs: float = 30.0, **match: Any) -> dict[str, Any]:
        """Receive until an event of `kind` (whose data contains `match`) arrives; returns it."""
        async with asyncio.timeout(timeout_secs):
            while True:
                message = await self.connection.recv()
                item: dict[str, Any] | bytes = json.loads(message) if isinstance(message, str) else message
                self.received.append(item)
                matches = isinstance(item, dict) and item["type"] == kind
                if matches and all(item["data"].get(key) == value for key, value in match.items()):  # type: ignore[union-attr]
                    return item  # type: ignore[return-value]

    async def until_audio(self, frames: int, timeout_secs: float = 30.0) -> None:
        """Receive until `frames` binary audio frames have arrived in all."""
        async with asyncio.timeout(timeout_secs):
            while sum(isinstance(item, bytes) for item in self.received) < frames:
                message = await self.connection.recv()
                self.received.append(json.loads(message) if isinstance(message, str) else message)

    async def speak(self, pcm: bytes, *, rate_hz: int = 16000, frame_ms: int = 20) -> None:
        """Send audio in real time, as a microphone would."""
        step = rate_hz * frame_ms // 1000 * 2
        loop = asyncio.get_running_loop()
        started = loop.time()
        for index, offset in enumerate(range(0, len(pcm), step)):
            await self.connection.send(pcm[offset : offset + step])
            delay = started + (index + 1) * frame_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
