"""The native WebSocket protocol at `/ws` and `/api/v1/sessions/{id}/ws` (see docs/protocol.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket

from voxhub.api.connection import (
    ClientConnection,
    InvalidMessage,
    UnknownMessageType,
    serve_connection,
)
from voxhub.api.events import audio_event, error_event, event, frame_event
from voxhub.api.logging import log_context
from voxhub.api.state import ServerState
from voxhub.audio.base64_payload import decode_base64_audio
from voxhub.errors import InputError, VoxhubError
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import AudioOutFrame, Frame
from voxhub.pipeline.turns import heard_words
from voxhub.sessions.live import open_conversation
from voxhub.sessions.manager import Session
from voxhub.sessions.models import Mode

router = APIRouter()
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
        "area",
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
    connection_class: type[NativeConnection] | None = None,
) -> None:
    """Run one client connection of the native protocol (or a seed's renaming of it, `connection_class`)."""
    make = connection_class or NativeConnection
    await serve_connection(websocket, lambda ws, state: make(ws, state, session_id, must_exist=must_exist))


class NativeConnection(ClientConnection):
    """The native protocol on the connection base; the seeds' sockets subclass it to rename events."""

    greets = True  # a new conversation opens with the persona's greeting (the seeds' sockets have their own)

    def __init__(
        self, websocket: WebSocket, state: ServerState, session_id: str | None, *, must_exist: bool = False
    ) -> None:
        super().__init__(websocket, state)
        self._requested_session = session_id
        self._must_exist = must_exist
        self.session: Session | None = None
        self.conversation: Conversation | None = None
        query = websocket.query_params
        self.binary_audio = query.get("audio_encoding", "binary") != "base64"
        rate = query.get("sample_rate", "16000")
        self.input_rate_hz = int(rate) if rate.isdigit() else 0

    def error_body(self, exc: VoxhubError, message: dict[str, Any] | None) -> dict[str, Any]:
        session_id = self.session.id if self.session else (self._requested_session or "")
        return error_event(session_id, exc.code, exc.message, exc.details)

    def is_audio(self, message: dict[str, Any]) -> bool:
        return message.get("type") == "audio_chunk"

    async def open(self) -> None:
        self.session = await self._bind_session(self._requested_session, self._must_exist)
        self.session_id = self.session.id
        await self.claim_session()
        with log_context(session_id=self.session.id):
            await self._open()

    async def close_pipeline(self) -> None:
        if self.conversation is not None:
            conversation, self.conversation = self.conversation, None
            await conversation.close()

    async def _bind_session(self, session_id: str | None, must_exist: bool) -> Session:
        if not 8000 <= self.input_rate_hz <= 48000:
            raise InputError("sample_rate must be a whole number of Hz between 8000 and 48000")
        query = self.websocket.query_params
        changes: dict[str, Any] = {
            key: query[key] for key in ("persona", "profile", "language", "avatar", "area") if key in query
        }
        flags = {key: query[key] for key in _MODE_KEYS if key in query}
        if flags:
            changes["mode"] = flags
        manager = self.state.sessions
        session = await manager.get(session_id) if must_exist and session_id else None
        if session is None:
            session = await manager.get_or_create(session_id)
        return await manager.update(session.id, changes) if changes else session

    async def _build(self, session: Session) -> Conversation:
        conversation = await open_conversation(
            session,
            self.state.sessions,
            self.state.engines,
            self.settings,
            send=self._send_frame,
            metrics=self.state.metrics,
            input_rate_hz=self.input_rate_hz,
            agent=self.state.assistant,
        )
        for warning in conversation.warnings:  # e.g. a stored profile's wake word the engine lacks
            await self._send_error(warning.error, warning.message, warning.details)
        return conversation

    async def _open(self) -> None:
        assert self.session is not None
        self.conversation = await self._build(self.session)
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

    async def on_audio(self, data: bytes) -> None:
        assert self.conversation is not None
        await self.conversation.push_audio(data)

    async def on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if not isinstance(kind, str):
            raise InvalidMessage('a message is a JSON object with a "type" and an optional "data" object')
        data = message.get("data") or {}
        if not isinstance(data, dict):
            raise InvalidMessage('"data" must be a JSON object')
        with log_context(session_id=self.session_id):
            await self._dispatch(kind, data)

    async def _dispatch(self, kind: str, data: Mapping[str, Any]) -> None:
        assert self.conversation is not None
        assert self.session is not None
        if kind == "text_message":
            await self.conversation.push_text(_string(data, "text"))
        elif kind == "audio_chunk":
            audio = decode_base64_audio(_string(data, "audio"), max_bytes=self.settings.max_ws_message_bytes)
            self.spend_audio(len(audio))
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
        """Apply a config change: checked first (nothing is saved if it is refused); engines, profile,
        persona... need the pipeline built again, which is done before the old one is let go, so a
        change that cannot be built leaves the session as it was. An answer in flight is interrupted."""
        assert self.conversation is not None
        assert self.session is not None
        manager = self.state.sessions
        config = await manager.validated(self.session, changes)
        if _REBUILD_KEYS & changes.keys():
            try:
                fresh = await self._build(dataclasses.replace(self.session, config=config))
            except VoxhubError as exc:
                raise ConfigRejected(
                    f"that configuration cannot be used, nothing was changed: {exc.message}",
                    details={"reason": exc.code, **exc.details},
                ) from None
            old, self.conversation = self.conversation, fresh
            await old.finish("config_update")
            fresh.memory.messages[:] = old.memory.messages  # history carries over, this turn included
        self.session = await manager.update(self.session.id, changes)
        if "mode" in changes and not _REBUILD_KEYS & changes.keys():  # applies in place
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
                await self.send_bytes(frame.pcm_s16le)
            else:
                await self._send_json(audio_event(frame, self.session.id))
            return
        body = frame_event(frame, self.session.id)
        if body is not None:
            await self._send_json(body)
            if self.state.webhooks is not None:  # webhooks (api/webhooks.py)
                await self.state.webhooks.emit(body)

    async def _send_error(self, code: str, message: str, details: dict[str, Any]) -> None:
        body = error_event(self.session.id if self.session else "", code, message, details)
        await self._send_json(body)
        if self.state.webhooks is not None:  # webhooks (api/webhooks.py)
            await self.state.webhooks.emit(body)

    async def _send_json(self, body: dict[str, Any]) -> None:
        self.state.events.publish(body)  # for WS /api/v1/events, on this instance or any other
        await self.send_json(body)


class ConfigRejected(InputError):
    code = "config_error"


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise InvalidMessage(f'"{key}" must be a string', details={"field": key})
    return value
