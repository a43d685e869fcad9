"""Sessions served over the Realtime API and Wyoming, told as the native WebSocket tells its own.

Each event is the native one (docs/protocol.md: `transcript`, `wake_word`, `response`, `tool_call`,
`error`, ...), with the session it belongs to. It goes onto the event bus (`WS /api/v1/events`, on this
instance or, with `redis_url`, any) and to the webhooks. Publishing never waits: the bus queues it, and the
webhook outbox write runs in a task of its own, so no audio stream and no reply waits on the store. Those
tasks start in publishing order and the outbox takes writes in the order they ask, so a receiver still sees
one session's events in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from voxhub.api.events import error_event, frame_event
from voxhub.api.webhooks import carried
from voxhub.pipeline.frames import AudioOutFrame, Frame

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

_writing: set[asyncio.Task[None]] = set()  # outbox writes under way (kept referenced until done)


def publish(state: ServerState, body: dict[str, Any]) -> None:
    """Put one native event on the bus and, if a receiver may want it, on its way to the webhooks."""
    state.events.publish(body)
    webhooks = state.webhooks
    if webhooks is not None and carried(body):
        task = asyncio.get_running_loop().create_task(webhooks.emit(body), name="voxhub-webhook-emit")
        _writing.add(task)
        task.add_done_callback(_writing.discard)


def publish_frame(state: ServerState, frame: Frame, session_id: str) -> None:
    """The native event of a pipeline frame, if it has one (audio has none)."""
    if isinstance(frame, AudioOutFrame):
        return
    body = frame_event(frame, session_id)
    if body is not None:
        publish(state, body)


def publish_error(state: ServerState, session_id: str, code: str, message: str) -> None:
    publish(state, error_event(session_id, code, message))


async def flushed() -> None:
    """Wait for this event loop's outbox writes under way."""
    loop = asyncio.get_running_loop()
    while writing := [task for task in _writing if task.get_loop() is loop]:
        await asyncio.gather(*writing, return_exceptions=True)


async def start(state: ServerState) -> Callable[[], Awaitable[None]]:
    """A side server that serves nothing: its stop, run after the protocol servers stop and before the
    webhooks close, lets the last events reach the outbox."""
    return flushed
