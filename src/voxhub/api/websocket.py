"""The native WebSocket protocol at `/ws` and `/api/v1/sessions/{id}/ws` (see docs/protocol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.types import Message
from starlette.websockets import WebSocketState

from voxhub.api.auth import websocket_authorized
from voxhub.api.events import audio_event, error_event, event, frame_event
from voxhub.api.limits import RateLimiter
from voxhub.api.logging import log_context
from voxhub.api.state import ServerState
from voxhub.audio.base64_payload import decode_base64_audio
from voxhub.errors import InputError, PayloadTooLargeError, VoxhubError
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import AudioOutFrame, Frame
from voxhub.pipeline.turns import heard_words
from voxhub.sessions.live import open_conversation
from voxhub.sessions.manager import Session
from voxhub.sessions.models import Mode

router = APIRouter()
_log = logging.getLogger(__name__)
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_POLICY_VIOLATION = 1008
_MODE_KEYS = ("voice_input", "text_input", "voice_output", "text_output")
CLIENT_MESSAGES = (
    "text_message",
    "audio_chunk",
    "audio_end",
    "mode_change",
    "config_update",
    "interrupt",
    "audio_played",
    "ping",
)
# config_update keys that need the pipeline rebuilt (engines, profile); the rest apply in place
_REBUILD_KEYS = frozenset(
    {
        "stt_engine",
        "tts_engine",
        "llm_engine",
        "profile",
        "language",
        "voice",
        "persona",
        "user_id",
        "system_prompt",
        "avatar",
    }
)


@router.websocket("/ws")
async def default_socket(websocket: WebSocket) -> None:
    await serve(websocket, websocket.query_params.get("session_id"))


@router.websocket("/api/v1/sessions/{session_id}/ws")
async def session_socket(websocket: WebSocket, session_id: str) -> None:
    await serve(websocket, session_id, must_exist=True)


async def serve(
    websocket: WebSocket,
    session_id: str | None,
    *,
    must_exist: bool = False,
    connection_class: type[_Connection] | None = None,
) -> None:
    """Run one client connection: admit it, bind its session, then relay until either side ends.

    `connection_class` lets a compatibility protocol rename events (a `_Connection` subclass).
    """
    state: ServerState = websocket.app.state.voxhub
    if not await admit(websocket, state):
        return
    connection = (connection_class or _Connection)(websocket, state)
    try:
        await connection.run(session_id, must_exist)
    finally:
        state.connections.release(duration_secs=connection.duration_secs())


class _Connection:
    greets = True  # a new conversation opens with the persona's greeting (the seeds' sockets have their own)

    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.websocket = websocket
        self.state = state
        self.settings = state.settings
        self.session: Session | None = None
        self.conversation: Conversation | None = None
        self._send_lock = asyncio.Lock()
        self._limiter = RateLimiter(self.settings.control_messages_per_sec)
        query = websocket.query_params
        self.binary_audio = query.get("audio_encoding", "binary") != "base64"
        rate = query.get("sample_rate", "16000")
        self.input_rate_hz = int(rate) if rate.isdigit() else 0
        self._loop = asyncio.get_running_loop()
        self._opened_at = self._loop.time()

    def duration_secs(self) -> float:
        return self._loop.time() - self._opened_at

    async def run(self, session_id: str | None, must_exist: bool) -> None:
        await self.websocket.accept()
        try:
            self.session = await self._bind_session(session_id, must_exist)
        except VoxhubError as exc:
            await self._send_json(error_event(session_id or "", exc.code, exc.message, exc.details))
            await self.websocket.close(CLOSE_POLICY_VIOLATION, exc.message[:120])
            return
        sessions = self.state.sessions
        sessions.mark_connected(self.session.id, True)
        with log_context(session_id=self.session.id):
            try:
                await self._open()
                await self._receive_loop()
            finally:
                sessions.mark_connected(self.session.id, False)
                if self.conversation is not None:
                    await self.conversation.close()

    async def _bind_session(self, session_id: str | None, must_exist: bool) -> Session:
        if not 8000 <= self.input_rate_hz <= 48000:
            raise InputError("sample_rate must be a whole number of Hz between 8000 and 48000")
        query = self.websocket.query_params
        changes: dict[str, Any] = {
            key: query[key] for key in ("persona", "profile", "language", "avatar") if key in query
        }
        flags = {key: query[key] for key in _MODE_KEYS if key in query}
        if flags:
            changes["mode"] = flags
        manager = self.state.sessions
        session = await manager.get(session_id) if must_exist and session_id else None
        if session is None:
            session = await manager.get_or_create(session_id)
        return await manager.update(session.id, changes) if changes else session

    async def _open(self, *, announce: bool = True) -> None:
        assert self.session is not None
        self.conversation = await open_conversation(
            self.session,
            self.state.sessions,
            self.state.engines,
            self.settings,
            send=self._send_frame,
            metrics=self.state.metrics,
            input_rate_hz=self.input_rate_hz,
            agent=self.state.assistant,
        )
        if not announce:
            return
        tts = await self.state.engines.get("tts", self.session.config.tts_engine)
        await self._send_json(
            event(
                "session_started",
                self.session.id,
                {
                    "mode": self.session.config.mode.to_dict(),
                    "config": self.session.config.to_dict(),
                    "input_audio": {
                        "encoding": "pcm_s16le",
                        "sample_rate_hz": self.input_rate_hz,
                        "channels": 1,
                    },
                    "output_audio": {
                        "encoding": "pcm_s16le",
                        "sample_rate_hz": tts.capabilities.sample_rate_hz,
                        "channels": 1,
                        "transport": "binary" if self.binary_audio else "base64",
                    },
                },
            )
        )
        if self.greets and self.conversation.greeting:
            await self.conversation.say(self.conversation.greeting)

    async def _receive_loop(self) -> None:
        while True:
            message = await receive_or_close(self.websocket, self.settings.connection_timeout_secs)
            if message is None:
                return
            try:
                if message.get("bytes") is not None:
                    await self._on_audio(message["bytes"])
                elif message.get("text") is not None:
                    await self._on_text(message["text"])
            except VoxhubError as exc:
                await self._send_error(exc.code, exc.message, exc.details)
            except WebSocketDisconnect:
                return

    async def _on_audio(self, data: bytes) -> None:
        if len(data) > self.settings.max_ws_message_bytes:
            raise _too_large(len(data), self.settings.max_ws_message_bytes)
        assert self.conversation is not None
        await self.conversation.push_audio(data)

    async def _on_text(self, text: str) -> None:
        limit = self.settings.max_ws_message_bytes
        if len(text) > limit:
            raise _too_large(len(text), limit)
        if not self._limiter.allow():
            raise RateLimited(
                f"more than {self.settings.control_messages_per_sec:g} control messages a second; slow down"
            )
        try:
            message = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidMessage(f"message is not valid JSON: {exc.msg} at character {exc.pos}") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise InvalidMessage('a message is a JSON object with a "type" and an optional "data" object')
        data = message.get("data") or {}
        if not isinstance(data, dict):
            raise InvalidMessage('"data" must be a JSON object')
        await self._dispatch(message["type"], data)

    async def _dispatch(self, kind: str, data: Mapping[str, Any]) -> None:
        assert self.conversation is not None
        assert self.session is not None
        if kind == "text_message":
            await self.conversation.push_text(str(data.get("text", "")))
        elif kind == "audio_chunk":
            audio = decode_base64_audio(
                str(data.get("audio", "")), max_bytes=self.settings.max_ws_message_bytes
            )
            await self.conversation.push_audio(audio)
        elif kind == "audio_end":
            await self.conversation.end_audio()
        elif kind == "interrupt":
            self.conversation.interrupt()
        elif kind == "audio_played":
            await self._audio_played(data)
        elif kind == "mode_change":
            await self._change_mode(data.get("flags", data))
        elif kind == "config_update":
            await self._update_config(data)
        elif kind == "ping":
            await self._send_json(event("pong", self.session.id, {"echo": data} if data else {}))
        else:
            raise UnknownMessageType(
                f"unknown message type {kind!r}", details={"known": list(CLIENT_MESSAGES)}
            )

    async def _change_mode(self, flags: Any) -> None:
        assert self.conversation is not None
        assert self.session is not None
        if not isinstance(flags, Mapping):
            raise InputError('mode_change needs the flags as an object, e.g. {"voice_output": false}')
        mode = Mode.from_flags(flags, base=self.session.config.mode)
        self.session = await self.state.sessions.update(self.session.id, {"mode": mode.to_dict()})
        await self.conversation.change_mode(mode.to_dict())

    async def _update_config(self, changes: Mapping[str, Any]) -> None:
        assert self.conversation is not None
        assert self.session is not None
        self.session = await self.state.sessions.update(self.session.id, changes)
        if _REBUILD_KEYS & changes.keys():
            # New engines, profile, persona...: the pipeline is built again (history carries over).
            await self.conversation.close()
            self.conversation = None
            await self._open(announce=False)
        elif "mode" in changes:  # the only setting that applies in place
            await self.conversation.change_mode(self.session.config.mode.to_dict())
        await self._send_json(
            event("config_updated", self.session.id, {"config": self.session.config.to_dict()})
        )

    async def _audio_played(self, data: Mapping[str, Any]) -> None:
        """The client stopped playing turn `turn_id` after `played_ms` of its audio: history keeps only the
        words heard (spread evenly over the audio sent, as Realtime's truncate does)."""
        assert self.conversation is not None
        assert self.session is not None
        turn_id, played_ms = data.get("turn_id"), data.get("played_ms")
        turn = self.conversation.turns.get(turn_id) if isinstance(turn_id, str) else None
        if turn is None or turn.audio_sent_ms <= 0:
            raise InputError(f"no recent answer audio of turn {turn_id!r}", details={"turn_id": turn_id})
        if not isinstance(played_ms, int | float) or isinstance(played_ms, bool) or played_ms < 0:
            raise InputError(
                "played_ms must be a number of milliseconds ≥ 0", details={"played_ms": played_ms}
            )
        sent_ms = turn.audio_sent_ms
        await self.conversation.wait_settled(turn.turn_id)
        stored = await self.state.sessions.history(self.session.id)
        old = next(
            (m.content for m in reversed(stored) if (m.turn_id, m.role) == (turn.turn_id, "assistant")),
            None,
        )
        text = old
        if old is not None and played_ms < sent_ms:
            text = heard_words(old, played_ms, sent_ms)
            await self.state.sessions.rewrite(self.session.id, turn.turn_id, "assistant", text)
            self.conversation.memory.rewrite("assistant", old, text)
        body = {"played_ms": played_ms, "sent_ms": round(sent_ms, 1), "text": text}
        await self._send_json(event("audio_played", self.session.id, body, turn_id))

    async def _send_frame(self, frame: Frame) -> None:
        assert self.session is not None
        if isinstance(frame, AudioOutFrame):
            if self.binary_audio:
                await self._send(bytes_=frame.pcm_s16le)
            else:
                await self._send_json(audio_event(frame, self.session.id))
            return
        body = frame_event(frame, self.session.id)
        if body is not None:
            await self._send_json(body)

    async def _send_error(self, code: str, message: str, details: dict[str, Any]) -> None:
        await self._send_json(error_event(self.session.id if self.session else "", code, message, details))

    async def _send_json(self, body: dict[str, Any]) -> None:
        await self._send(text=json.dumps(body, ensure_ascii=False))

    async def _send(self, *, text: str | None = None, bytes_: bytes | None = None) -> None:
        if self.websocket.client_state is not WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                if bytes_ is not None:
                    await self.websocket.send_bytes(bytes_)
                else:
                    await self.websocket.send_text(text or "")


class InvalidMessage(InputError):
    code = "invalid_message"


class UnknownMessageType(InputError):
    code = "unknown_message_type"


class MessageTooLarge(PayloadTooLargeError):
    code = "message_too_large"


class RateLimited(InputError):
    code = "rate_limited"
    status_code = 429


async def admit(websocket: WebSocket, state: ServerState) -> bool:
    """Check the token and take a connection slot; False (after a readable close) when refused.

    The caller must release the slot (`state.connections.release`) when the connection ends.
    """
    if not websocket_authorized(websocket, state.settings):
        await websocket.accept()
        await websocket.close(CLOSE_POLICY_VIOLATION, "invalid or missing token")
        return False
    if not state.connections.try_acquire():
        capacity = state.connections.capacity()
        await websocket.accept()
        used = f"{capacity['active_connections']}/{capacity['max_connections']}"
        await websocket.close(CLOSE_TRY_AGAIN_LATER, f"server at capacity ({used}); try later")
        return False
    return True


async def receive_or_close(websocket: WebSocket, idle_timeout_secs: float) -> Message | None:
    """The next client message; None once the client has gone or stayed silent too long (then closed)."""
    try:
        message = await asyncio.wait_for(websocket.receive(), idle_timeout_secs)
    except TimeoutError:
        await websocket.close(1001, f"no message for {idle_timeout_secs:g} s")
        return None
    return None if message["type"] == "websocket.disconnect" else message


def _too_large(size: int, limit: int) -> MessageTooLarge:
    return MessageTooLarge(
        f"message is {size} bytes; the limit is {limit}", details={"size_bytes": size, "limit_bytes": limit}
    )
