"""The earlier servers' WebSocket routes, as thin renamings of the native protocol (see docs/compat.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket

from voxhub.api.auth import websocket_authorized
from voxhub.api.connection import CLOSE_POLICY_VIOLATION
from voxhub.api.event_stream import relay_events
from voxhub.api.state import ServerState
from voxhub.api.websocket import NativeConnection, serve
from voxhub.errors import InputError
from voxhub.pipeline.frames import AnswerTextFrame, Frame, InterruptFrame
from voxhub.sessions.manager import Session

router = APIRouter()

# The mode seed 004's transcription socket runs in: speech in, text out, nothing spoken back.
_TRANSCRIPTION_MODE = {"voice_input": True, "text_input": False, "voice_output": False, "text_output": True}
COMPAT_PROFILE_KEY = "compat_started_profile"  # app.state attribute set by POST /api/v1/system/start


@router.websocket("/ws/flexible")
async def flexible_socket(websocket: WebSocket) -> None:
    """Seed 001's primary endpoint: the native protocol already reads its mode flags from the query."""
    await serve(websocket, websocket.query_params.get("session_id"))


@router.websocket("/ws/auth")
async def auth_socket(websocket: WebSocket) -> None:
    """Seed 001's authenticated socket: the native one, which checks the token whenever one is set."""
    await serve(websocket, websocket.query_params.get("session_id"))


@router.websocket("/ws/voice-session")
async def voice_session_socket(websocket: WebSocket) -> None:
    await serve(websocket, websocket.query_params.get("session_id"), connection_class=VoiceSessionConnection)


@router.websocket("/api/v1/ws")
async def transcription_socket(websocket: WebSocket) -> None:
    if websocket.query_params.get("broadcast", "").lower() in ("1", "true", "yes"):
        await broadcast_socket(websocket)
        return
    await serve(websocket, websocket.query_params.get("session_id"), connection_class=TranscriptionConnection)


_BROADCAST_TYPES = ("transcript", "wake_word", "speech_started", "error")


async def broadcast_socket(websocket: WebSocket) -> None:
    """Seed 004's broadcast (`?broadcast=true`): `system_status` once subscribed, then the transcriptions,
    wake words and speech of every session (or `?session_id=`'s), of every instance with `redis_url`, in
    seed 004's shape plus `session_id`; it only listens."""
    state: ServerState = websocket.app.state.voxhub
    await websocket.accept()
    if not websocket_authorized(websocket, state.settings):
        await websocket.close(CLOSE_POLICY_VIOLATION, "invalid or missing token")
        return
    session_id = websocket.query_params.get("session_id") or None
    hello = {
        "event": "system_status",
        "running": True,
        "active_features": ["transcription", "broadcast"],
        "timestamp": time.time(),
    }
    await relay_events(websocket, state, session_id, _BROADCAST_TYPES, shape=_broadcast_event, hello=hello)


def _broadcast_event(body: dict[str, Any]) -> dict[str, Any] | None:
    renamed = _transcription_event(body)
    return {**renamed, "session_id": body.get("session_id")} if renamed is not None else None


class VoiceSessionConnection(NativeConnection):
    """Seed 002's vocabulary: flat messages, `init` with character details, base64 `tts_chunk` audio;
    `llm2_final` as soon as the answer's text is made, or with the words heard when it is cut off."""

    greets = False  # seed 002 sends its own `greeting` on `init`

    def __init__(
        self, websocket: WebSocket, state: ServerState, session_id: str | None, *, must_exist: bool = False
    ) -> None:
        super().__init__(websocket, state, session_id, must_exist=must_exist)
        self.binary_audio = False  # seed 002 receives speech as base64 `tts_chunk` messages
        self._final_sent: set[str] = set()  # turns whose llm2_final went out (a few recent ones)

    async def on_message(self, message: dict[str, Any]) -> None:
        if "data" not in message:
            # Seed 002 puts the fields beside `type`; the native protocol nests them under `data`.
            data = {key: value for key, value in message.items() if key != "type"}
            message = {"type": message.get("type"), "data": data}
        await super().on_message(message)

    async def _send_frame(self, frame: Frame) -> None:
        if isinstance(frame, AnswerTextFrame):
            await self._llm2_final(frame.turn_id, frame.text)
        elif isinstance(frame, InterruptFrame) and frame.turn_id and self.conversation is not None:
            turn = self.conversation.turns.get(frame.turn_id)
            await self._llm2_final(frame.turn_id, turn.answer or "" if turn is not None else "")
        await super()._send_frame(frame)

    async def _llm2_final(self, turn_id: str, text: str) -> None:
        if turn_id in self._final_sent:
            return
        if len(self._final_sent) > 64:
            self._final_sent.clear()
        self._final_sent.add(turn_id)
        await self.send_json({"type": "llm2_final", "text": text})

    async def _dispatch(self, kind: str, data: Mapping[str, Any]) -> None:
        if kind == "init":
            details = data.get("character_details") or {}
            if not isinstance(details, Mapping):
                raise InputError(
                    "init's character_details must be an object", details={"field": "character_details"}
                )
            await self._update_config({"system_prompt": character_prompt(details)})
            await self._send_json({"type": "greeting", "text": _greeting(details)})
        elif kind == "barge_in":
            await super()._dispatch("interrupt", {})
        elif kind == "vad_state":
            return  # the server runs its own VAD; a client's opinion changes nothing
        else:
            await super()._dispatch(kind, data)

    async def send_json(self, body: dict[str, Any] | None) -> None:
        renamed = _voice_session_event(body) if body is not None else None
        if renamed is not None:
            await super().send_json(renamed)


class TranscriptionConnection(NativeConnection):
    """Seed 004's transcription socket: speech in, flat `{event, ...}` messages out."""

    greets = False

    async def _bind_session(self, session_id: str | None, must_exist: bool) -> Session:
        session = await super()._bind_session(session_id, must_exist)
        changes: dict[str, Any] = {"mode": _TRANSCRIPTION_MODE}
        started = getattr(self.websocket.app.state, COMPAT_PROFILE_KEY, None)
        if started and "profile" not in self.websocket.query_params:
            changes["profile"] = started
        return await self.state.sessions.update(session.id, changes)

    async def send_json(self, body: dict[str, Any] | None) -> None:
        renamed = _transcription_event(body) if body is not None else None
        if renamed is not None:
            await super().send_json(renamed)


def _voice_session_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """A native event in seed 002's names, or None for the ones it has no name for."""
    if "event" in body or body.get("type") in ("greeting", "llm2_final"):
        return body  # already in the seed's shape
    kind, data = body.get("type"), body.get("data", {})
    match kind:
        case "speech_started" | "speech_stopped":
            return {"type": "vad_state", "speaking": kind == "speech_started"}
        case "transcript" if data.get("is_final"):
            return {"type": "transcript_final", "text": data.get("text", "")}
        case "tts_chunk":
            return {"type": "tts_chunk", "audio": data["audio"], "sample_rate_hz": data["sample_rate_hz"]}
        case "audio_end":
            return {"type": "tts_end"}
        case "interrupted":
            return {"type": "barge_in"}
        case "error":
            return {"type": "error", "error": data.get("error", ""), "code": data.get("code")}
        case "pong":
            return {"type": "pong"}
    return None


def _transcription_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """A native event in seed 004's `{event, ...}` shape, or None for the ones it has no name for."""
    kind, data = body.get("type"), body.get("data", {})
    stamp = body.get("timestamp", time.time())
    match kind:
        case "session_started":
            features = ["vad", "transcription"]
            if data.get("config", {}).get("profile") == "wake-word":
                features.append("wake_word")
            return {
                "event": "system_status",
                "running": True,
                "active_features": features,
                "timestamp": stamp,
            }
        case "transcript":
            # Whisper gives no calibrated confidence per utterance, so the field is null (docs/compat.md).
            text, final = data.get("text", ""), data.get("is_final", False)
            return {
                "event": "transcription",
                "text": text,
                "is_final": final,
                "confidence": None,
                "timestamp": stamp,
            }
        case "wake_word":
            word, confidence = data.get("wake_word"), data.get("confidence")
            return {"event": "wake_word", "wake_word": word, "confidence": confidence, "timestamp": stamp}
        case "speech_started":
            return {"event": "speech_detected", "confidence": None, "timestamp": stamp}
        case "error":
            return {
                "event": "error",
                "error": data.get("error", ""),
                "code": data.get("code"),
                "timestamp": stamp,
            }
        case "pong":
            return {"event": "pong", "timestamp": stamp}
    return None


def character_prompt(details: Mapping[str, Any]) -> str:
    name = details.get("name")
    described = json.dumps(dict(details), ensure_ascii=False)
    opening = f"You are {name}, a character." if name else "You play a character."
    return f"{opening} Stay in character. Character details: {described}"


def _greeting(details: Mapping[str, Any]) -> str:
    given = details.get("greeting")
    if isinstance(given, str) and given:
        return given
    name = details.get("name")
    return f"Hello! I'm {name}." if name else "Hello!"
