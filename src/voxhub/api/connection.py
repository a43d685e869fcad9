"""One base for every client socket (native, Realtime, the seeds'): admission, the receive loop, limits,
close codes and the watch on the session; the protocol adapters only translate events.

An adapter subclasses `ClientConnection` and fills in `open` (bind the session, build the pipeline),
`on_message` (one parsed JSON object), `on_audio` (one binary frame), `error_body` (its error event) and
`close_pipeline`. The base guarantees what every client may rely on:

- a connection past the cap is refused with 1013, a wrong token with 1008, before anything is built;
- a message larger than `max_ws_message_bytes`, malformed or nested too deep gets an error, and the
  socket goes on; so does a message whose handling raised anything at all (`internal_error`);
- JSON control messages share one token bucket (`control_messages_per_sec`), audio another, measured in
  bytes of real time (`audio_realtime_factor` × the input rate, bursts of `audio_burst_secs`);
- a connection silent for `connection_timeout_secs` is closed (1001);
- a session deleted (or expired) while connected: an `error` `session_deleted`, then a close (4404).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from voxhub.api.auth import websocket_authorized
from voxhub.api.limits import RateLimiter
from voxhub.api.state import ServerState
from voxhub.errors import InputError, PayloadTooLargeError, VoxhubError
from voxhub.sessions.errors import SessionDeleted

_log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # idle too long
CLOSE_POLICY_VIOLATION = 1008  # no or wrong token; a session that cannot be opened
CLOSE_TRY_AGAIN_LATER = 1013  # at capacity
CLOSE_SESSION_GONE = 4404  # the session was deleted or expired while connected
CLOSE_SESSION_MOVED = 4409  # the session was opened on another connection (with `redis_url`, any instance)


class InvalidMessage(InputError):
    code = "invalid_message"


class UnknownMessageType(InputError):
    code = "unknown_message_type"


class MessageTooLarge(PayloadTooLargeError):
    code = "message_too_large"


class RateLimited(InputError):
    code = "rate_limited"
    status_code = 429


class InternalError(VoxhubError):
    code = "internal_error"


class SessionMoved(VoxhubError):
    code = "session_moved"
    status_code = 409


class ClientConnection(ABC):
    """One client's socket; see the module's docstring for what the base does."""

    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.websocket = websocket
        self.state = state
        self.settings = state.settings
        self.session_id: str | None = None  # set by `open`; watched for deletion
        self.input_rate_hz = 16000
        self._send_lock = asyncio.Lock()
        self._control = RateLimiter(self.settings.control_messages_per_sec)
        self._audio: RateLimiter | None = None
        self._audio_limited = False  # one error per run of dropped audio, not one per chunk
        self._loop = asyncio.get_running_loop()
        self._opened_at = self._loop.time()
        self._moving: asyncio.Task[None] | None = None
        self._claimed: str | None = None  # the session registered in the cluster for this connection

    # -- what an adapter provides ------------------------------------------------------------------------

    @abstractmethod
    async def open(self) -> None:
        """Bind the session (set `session_id`) and build the pipeline; a VoxhubError refuses the client."""

    @abstractmethod
    async def on_message(self, message: dict[str, Any]) -> None:
        """One JSON object from the client."""

    async def on_audio(self, data: bytes) -> None:
        raise InvalidMessage("this protocol takes no binary messages; send JSON text")

    @abstractmethod
    def error_body(self, exc: VoxhubError, message: dict[str, Any] | None) -> dict[str, Any]:
        """The protocol's error event for `exc` (raised handling `message`, if it was one)."""

    @abstractmethod
    async def close_pipeline(self) -> None:
        """The connection is over: end the pipeline (an answer in flight is kept as heard)."""

    def is_audio(self, message: dict[str, Any]) -> bool:
        """Whether `message` carries audio (spent from the audio budget, not the control one)."""
        return False

    # -- the connection's life ------------------------------------------------------------------------------

    def duration_secs(self) -> float:
        return self._loop.time() - self._opened_at

    async def run(self) -> None:
        await self.websocket.accept()
        try:
            await self.open()
        except VoxhubError as exc:
            await self._release_session()
            await self.send_json(self.error_body(exc, None))
            await self.close(CLOSE_POLICY_VIOLATION, exc.message)
            return
        sessions = self.state.sessions
        if self.session_id is not None:
            sessions.mark_connected(self.session_id, True)
            await self.claim_session()
        try:
            await self._until_closed()
        finally:
            if self.session_id is not None:
                sessions.mark_connected(self.session_id, False)
            await self._release_session()
            await self.close_pipeline()

    async def claim_session(self) -> None:
        """Register `session_id` as live here (with `redis_url`): an earlier connection to it, here or on
        another instance, is closed (4409). Adapters call it as soon as the session is bound, before the
        pipeline is built; `run` calls it otherwise."""
        cluster = self.state.cluster
        if cluster is not None and self.session_id is not None and self._claimed is None:
            self._claimed = self.session_id
            await cluster.claim(self.session_id, self._moved)

    async def _release_session(self) -> None:
        claimed, self._claimed = self._claimed, None
        if claimed is not None and self.state.cluster is not None:
            await self.state.cluster.release_session(claimed, self._moved)

    def _moved(self) -> None:
        """The session was opened on another connection (perhaps on another instance): this one ends."""
        if self._moving is None:
            self._moving = asyncio.create_task(self._close_moved(), name="voxhub-session-moved")

    async def _close_moved(self) -> None:
        moved = SessionMoved(
            f"session {self.session_id!r} was opened on another connection",
            details={"session_id": self.session_id},
        )
        await self.send_json(self.error_body(moved, None))
        await self.close(CLOSE_SESSION_MOVED, "session moved to another connection")

    async def _until_closed(self) -> None:
        tasks = [asyncio.create_task(self._receive_loop(), name="voxhub-receive")]
        if self.session_id is not None:
            tasks.append(asyncio.create_task(self._watch_session(self.session_id), name="voxhub-watch"))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for task in done:
            task.result()

    async def _watch_session(self, session_id: str) -> None:
        await self.state.sessions.gone(session_id).wait()
        gone = SessionDeleted(f"session {session_id!r} was deleted", details={"session_id": session_id})
        await self.send_json(self.error_body(gone, None))
        await self.close(CLOSE_SESSION_GONE, "session deleted")

    async def _receive_loop(self) -> None:
        idle_secs = self.settings.connection_timeout_secs
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), idle_secs)
            except TimeoutError:
                await self.close(CLOSE_GOING_AWAY, f"no message for {idle_secs:g} s")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            parsed: dict[str, Any] | None = None
            try:
                if message.get("bytes") is not None:
                    await self._binary(message["bytes"])
                elif message.get("text") is not None:
                    parsed = self._parse(message["text"])
                    await self._text(parsed)
            except _Dropped:
                continue
            except VoxhubError as exc:
                await self.send_json(self.error_body(exc, parsed))
            except WebSocketDisconnect:
                return
            except Exception as exc:  # a bug handling one message must not take the connection with it
                _log.exception("handling a client message failed")
                failed = InternalError(f"the server failed handling that message: {type(exc).__name__}")
                await self.send_json(self.error_body(failed, parsed))

    def _parse(self, text: str) -> dict[str, Any]:
        limit = self.settings.max_ws_message_bytes
        if len(text) > limit:
            raise _too_large(len(text), limit)
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidMessage(f"message is not valid JSON: {exc.msg} at character {exc.pos}") from None
        except RecursionError:
            raise InvalidMessage("message is nested too deeply") from None
        if not isinstance(parsed, dict):
            raise InvalidMessage("a message is a JSON object")
        return parsed

    async def _text(self, message: dict[str, Any]) -> None:
        if not self.is_audio(message) and not self._control.allow():
            raise RateLimited(
                f"more than {self.settings.control_messages_per_sec:g} control messages a second; slow down"
            )
        await self.on_message(message)

    async def _binary(self, data: bytes) -> None:
        limit = self.settings.max_ws_message_bytes
        if len(data) > limit:
            raise _too_large(len(data), limit)
        self.spend_audio(len(data))
        await self.on_audio(data)

    def spend_audio(self, size_bytes: int) -> None:
        """Take `size_bytes` of 16-bit audio from the budget; RateLimited (once per run) when it is spent."""
        if self._audio is None:
            rate = 2 * self.input_rate_hz * self.settings.audio_realtime_factor
            burst = 2 * self.input_rate_hz * self.settings.audio_burst_secs
            self._audio = RateLimiter(rate, burst)
        if self._audio.spend(size_bytes):
            self._audio_limited = False
            return
        if self._audio_limited:
            raise _Dropped("audio dropped")
        self._audio_limited = True
        factor = self.settings.audio_realtime_factor
        raise RateLimited(
            f"audio is arriving faster than {factor:g}× real time; the excess is dropped",
            details={"realtime_factor": factor, "burst_secs": self.settings.audio_burst_secs},
        )

    # -- sending ---------------------------------------------------------------------------------------------

    async def send_json(self, body: dict[str, Any] | None) -> None:
        if body is not None:
            await self._write(lambda: self.websocket.send_text(json.dumps(body, ensure_ascii=False)))

    async def send_bytes(self, data: bytes) -> None:
        await self._write(lambda: self.websocket.send_bytes(data))

    async def _write(self, write: Callable[[], Any]) -> None:
        if self.websocket.client_state is not WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await write()

    async def close(self, code: int, reason: str) -> None:
        if self.websocket.client_state is not WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await self.websocket.close(code, reason[:120])


class _Dropped(VoxhubError):
    """Audio dropped again in a run already reported: no further error event."""


async def serve_connection(
    websocket: WebSocket, make: Callable[[WebSocket, ServerState], ClientConnection]
) -> None:
    """Admit the client (token, capacity), then run its connection until either side ends it."""
    state: ServerState = websocket.app.state.voxhub
    if not websocket_authorized(websocket, state.settings):
        await websocket.accept()
        await websocket.close(CLOSE_POLICY_VIOLATION, "invalid or missing token")
        return
    reservation = websocket.query_params.get("reservation")  # from `POST /connect` (seed 001)
    if not (reservation and state.connections.claim(reservation)) and not state.connections.try_acquire():
        capacity = state.connections.capacity()
        used = f"{capacity['active_connections']}/{capacity['max_connections']}"
        await websocket.accept()
        await websocket.close(CLOSE_TRY_AGAIN_LATER, f"server at capacity ({used}); try later")
        return
    admission = await state.cluster.acquire() if state.cluster is not None else None
    if admission is not None and not admission.taken:
        state.connections.release()
        state.connections.rejected += 1
        cap = state.settings.cluster_max_connections
        await websocket.accept()
        await websocket.close(
            CLOSE_TRY_AGAIN_LATER, f"cluster at capacity ({admission.used}/{cap}); try later"
        )
        return
    connection = make(websocket, state)
    try:
        await connection.run()
    finally:
        state.connections.release(duration_secs=connection.duration_secs())
        if admission is not None and state.cluster is not None:
            await state.cluster.release(admission)


def _too_large(size: int, limit: int) -> MessageTooLarge:
    return MessageTooLarge(
        f"message is {size} bytes; the limit is {limit}", details={"size_bytes": size, "limit_bytes": limit}
    )
