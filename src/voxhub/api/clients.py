"""What one HTTP client may hold: work it left behind is cancelled, and its turns have a rate.

`ClientWatch` (ASGI middleware) notes which address a request comes from, for the per-client turn budget
(`ConnectionTracker.slot`), and cancels the handler when the client goes away mid-request: an LLM answer
nobody will read must not keep a slot and a core busy for minutes.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLIENT_ADDRESS: ContextVar[str | None] = ContextVar("voxhub_client_address", default=None)
logger = logging.getLogger(__name__)


class ClientWatch:
    """ASGI middleware: the client's address for the request's task; cancel the work when it leaves.

    The handler reads the body through us. Once it is read, a watcher waits for the next message from
    the server, which can only be `http.disconnect`; if it arrives before the response is done, the
    handler is cancelled. A handler that asks for more after the body (a streaming response listening
    for the disconnect) is told of it by the watcher, so only one task ever reads.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        CLIENT_ADDRESS.set(client[0] if client else None)
        body_read = asyncio.Event()
        left = asyncio.Event()
        answered = asyncio.Event()  # the last byte of the response is sent: a disconnect now is no loss

        async def tracking_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered.set()

        async def guarded_receive() -> Message:
            if body_read.is_set():
                await left.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                left.set()
            elif not message.get("more_body", False):
                body_read.set()
            return message

        handler = asyncio.current_task()
        assert handler is not None
        watcher: asyncio.Task[bool] = asyncio.create_task(_watch(receive, body_read, answered, left, handler))
        try:
            await self.app(scope, guarded_receive, tracking_send)
        except asyncio.CancelledError:
            if not (watcher.done() and not watcher.cancelled() and watcher.result()) or not _uncancel(
                handler
            ):
                raise  # cancelled from outside (shutdown), not because the client left
            logger.info(
                "client left before the answer; its work was cancelled", extra={"path": scope["path"]}
            )
        finally:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher


async def _watch(
    receive: Receive,
    body_read: asyncio.Event,
    answered: asyncio.Event,
    left: asyncio.Event,
    handler: asyncio.Task[object],
) -> bool:
    """Wait for the client to leave; True when that cancelled the handler."""
    await body_read.wait()
    message = await receive()
    if message["type"] != "http.disconnect":
        return False
    left.set()
    if answered.is_set():
        return False
    handler.cancel()
    return True


def _uncancel(task: asyncio.Task[object]) -> bool:
    """Take back our own cancellation; True when no other cancellation is pending."""
    return task.uncancel() == 0
