"""Connecting a real WebSocket client to a live server (tests/api/live.py) in the native protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import websockets

from tests.api.live import Client

Connect = Callable[..., AbstractAsyncContextManager[Client]]
Start = Callable[..., AbstractAsyncContextManager[str]]
TEXT_ONLY = "voice_input=false&voice_output=false"


def ws_url(base_url: str, query: str = "", path: str = "/ws") -> str:
    return base_url.replace("http", "ws", 1) + path + (f"?{query}" if query else "")


@asynccontextmanager
async def connect(base_url: str, query: str = "", path: str = "/ws") -> AsyncIterator[Client]:
    """A client whose `session_started` has arrived."""
    async with websockets.connect(ws_url(base_url, query, path), max_queue=None) as connection:
        client = Client(connection)
        await client.until("session_started")
        yield client
