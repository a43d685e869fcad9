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
    async with state.events.subscribe(session_id, types) as subscription:
        await websocket.send_text(
            json.dumps(
                {
                    "type": "subscribed",
                    "session_id": session_id,
                    "types": types,
                    "instance": state.events.instance,
                    "shared": state.events.shared,
                }
            )
        )
        watch = asyncio.create_task(_until_disconnect(websocket))
        try:
            while not watch.done():
                getting = asyncio.ensure_future(subscription.queue.get())
                await asyncio.wait({getting, watch}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    break
                body = getting.result()
                if subscription.dropped:
                    body = {**body, "dropped": subscription.dropped}
                    subscription.dropped = 0
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
