"""`WS /api/v1/events`: every session's server events, live, from this instance or (with `redis_url`) any.

Query: `session_id` (one session), `type` (comma-separated event types, e.g. `transcript,response`),
`token` when auth is on. The socket first sends `{"type": "subscribed", ...}`; events published after it
follow in the bus's order, each the native event (docs/protocol.md) plus `instance` and, through Redis,
`event_id` (the stream entry). The client sends nothing; a slow client loses the oldest events (counted in
the `dropped` field of the next one it gets).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Collection
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from voxhub.api.auth import websocket_authorized
from voxhub.api.connection import CLOSE_POLICY_VIOLATION
from voxhub.api.state import ServerState

router = APIRouter()


@router.websocket("/api/v1/events")
async def events_socket(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.voxhub
    await websocket.accept()
    if not websocket_authorized(websocket, state.settings):
        await websocket.close(CLOSE_POLICY_VIOLATION, "invalid or missing token")
        return
    query = websocket.query_params
    types = [name.strip() for name in query.get("type", "").split(",") if name.strip()]
    session_id = query.get("session_id") or None
    await relay_events(websocket, state, session_id, types)


async def relay_events(
    websocket: WebSocket,
    state: ServerState,
    session_id: str | None,
    types: Collection[str],
    shape: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    hello: dict[str, Any] | None = None,
) -> None:
    """Send the bus's events to an accepted `websocket` until it goes: `hello` first, once subscribed (by
    default `{"type": "subscribed", ...}`), then each event, through `shape` if given (None: skipped)."""
    async with state.events.subscribe(session_id, types) as subscription:
        if hello is None:
            hello = {
                "type": "subscribed",
                "session_id": session_id,
                "types": list(types),
                "instance": state.events.instance,
                "shared": state.events.shared,
            }
        await websocket.send_text(json.dumps(hello))
        watch = asyncio.create_task(_until_disconnect(websocket))
        try:
            while not watch.done():
                getting = asyncio.ensure_future(subscription.queue.get())
                await asyncio.wait({getting, watch}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    break
                body: dict[str, Any] | None = getting.result()
                if body is not None and subscription.dropped:
                    body = {**body, "dropped": subscription.dropped}
                    subscription.dropped = 0
                if body is not None and shape is not None:
                    body = shape(body)
                if body is not None:
                    await websocket.send_text(json.dumps(body, ensure_ascii=False))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await watch


async def _until_disconnect(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
