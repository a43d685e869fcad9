"""OpenAI Realtime event shapes: GA names with beta aliases, session objects, items and `session.update`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from voxhub.errors import InputError

REALTIME_RATE_HZ = 24000  # the only rate OpenAI's pcm16 / audio/pcm formats have

# GA server event names → the names beta clients (`OpenAI-Beta: realtime=v1`) expect.
BETA_NAMES = {
    "conversation.item.added": "conversation.item.created",
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
}
GA_ONLY = frozenset({"conversation.item.done"})  # beta has no such event: beta clients never see it


class InvalidEvent(InputError):
    code = "invalid_event"


class UnsupportedEvent(InputError):
    code = "unsupported_event"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def server_event(kind: str, beta: bool, **fields: Any) -> dict[str, Any] | None:
    """A server event under the dialect's name, with a fresh `event_id`; None if the dialect lacks it."""
    if beta and kind in GA_ONLY:
        return None
    name = BETA_NAMES.get(kind, kind) if beta else kind
    return {"type": name, "event_id": new_id("event"), **fields}


def error_event(message: str, code: str, *, event_id: str | None, param: str | None = None) -> dict[str, Any]:
    """An `error` event; `event_id` inside `error` names the client event that caused it."""
    error = {"type": "invalid_request_error", "code": code, "message": message, "param": param}
    return {"type": "error", "event_id": new_id("event"), "error": {**error, "event_id": event_id}}


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    """What a Realtime client can set with `session.update`."""

    audio_output: bool = True
    turn_detection: str | None = "server_vad"  # None: the client commits the audio buffer itself
    input_rate_hz: int = REALTIME_RATE_HZ
    instructions: str | None = None
    voice: str | None = None


def session_object(config: RealtimeConfig, session_id: str, model: str, beta: bool) -> dict[str, Any]:
    """The `session` of `session.created` / `session.updated`, in the dialect's shape."""
    detection = None if config.turn_detection is None else {"type": config.turn_detection}
    if beta:
        return {
            "id": session_id,
            "object": "realtime.session",
            "model": model,
            "modalities": ["text", "audio"] if config.audio_output else ["text"],
            "instructions": config.instructions or "",
            "voice": config.voice,
            "input_audio_format": "pcm16",
            "output_audio_format": "pcm16",
            "turn_detection": detection,
        }
    audio_format = {"type": "audio/pcm", "rate": REALTIME_RATE_HZ}
    return {
        "type": "realtime",
        "id": session_id,
        "object": "realtime.session",
        "model": model,
        "output_modalities": ["audio"] if config.audio_output else ["text"],
        "instructions": config.instructions or "",
        "audio": {
            "input": {"format": {**audio_format, "rate": config.input_rate_hz}, "turn_detection": detection},
            "output": {"format": audio_format, "voice": config.voice},
        },
    }


def updated_config(config: RealtimeConfig, session: Mapping[str, Any]) -> RealtimeConfig:
    """`config` with the fields of a `session.update` applied (GA and beta shapes both accepted)."""
    changes: dict[str, Any] = {}
    audio = _object(session.get("audio"), "session.audio")
    audio_in = _object(audio.get("input"), "session.audio.input")
    audio_out = _object(audio.get("output"), "session.audio.output")
    modalities = session.get("output_modalities", session.get("modalities"))
    if modalities is not None:
        if not isinstance(modalities, list) or not set(modalities) <= {"text", "audio"} or not modalities:
            raise InvalidEvent(
                'modalities must be a list of "text" and/or "audio"', details={"param": "modalities"}
            )
        changes["audio_output"] = "audio" in modalities
    if "format" in audio_in:
        changes["input_rate_hz"] = _ga_rate(audio_in["format"])
    for key in ("input_audio_format", "output_audio_format"):
        if key in session and session[key] != "pcm16":
            raise InvalidEvent(f'{key}: only "pcm16" is supported', details={"param": key})
    if "format" in audio_out and _ga_rate(audio_out["format"]) != REALTIME_RATE_HZ:
        raise InvalidEvent("audio.output.format: only audio/pcm at 24000 Hz", details={"param": "audio"})
    for source in (session, audio_in):
        if "turn_detection" in source:
            changes["turn_detection"] = _turn_detection(source["turn_detection"])
    if isinstance(session.get("instructions"), str):
        changes["instructions"] = session["instructions"]
    voice = audio_out.get("voice", session.get("voice"))
    if isinstance(voice, str):
        changes["voice"] = voice
    return replace(config, **changes)


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"{name} must be an object", details={"param": name})
    return value


def _ga_rate(value: Any) -> int:
    audio_format = _object(value, "audio format")
    if audio_format.get("type", "audio/pcm") != "audio/pcm":
        raise InvalidEvent('audio format: only "audio/pcm" is supported', details={"param": "audio"})
    rate = audio_format.get("rate", REALTIME_RATE_HZ)
    if not isinstance(rate, int) or not 8000 <= rate <= 48000:
        raise InvalidEvent("audio format rate must be a whole number of Hz between 8000 and 48000")
    return rate


def _turn_detection(value: Any) -> str | None:
    if value is None:
        return None
    detection = _object(value, "turn_detection")
    kind = detection.get("type", "server_vad")
    if kind not in ("server_vad", "semantic_vad"):
        raise InvalidEvent(
            f"turn_detection type {kind!r} is not supported", details={"param": "turn_detection"}
        )
    if detection.get("create_response") is False:
        raise UnsupportedEvent(
            "turn_detection.create_response=false is not supported: every utterance gets an answer",
            details={"param": "turn_detection.create_response"},
        )
    return "server_vad"  # semantic_vad is served by the same VAD endpointing


def message_item(item_id: str, role: str, content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": role,
        "status": status,
        "content": content,
    }


def user_text(item: Mapping[str, Any]) -> str:
    """The text of a `conversation.item.create` user message (`input_text` / `text` content parts)."""
    if item.get("type", "message") != "message" or item.get("role") != "user":
        raise UnsupportedEvent(
            "conversation.item.create: only user messages are supported so far", details={"param": "item"}
        )
    content = item.get("content")
    if not isinstance(content, list):
        raise InvalidEvent("item.content must be a list of content parts", details={"param": "item.content"})
    texts = [
        str(part.get("text", ""))
        for part in content
        if isinstance(part, Mapping) and part.get("type") in ("input_text", "text")
    ]
    text = " ".join(piece.strip() for piece in texts if piece.strip())
    if not text:
        raise InvalidEvent("the user item has no input_text content", details={"param": "item.content"})
    return text


def parse_event(text: str | None) -> dict[str, Any]:
    """A client event: one JSON object in a text message."""
    if text is None:
        raise InvalidEvent("events are JSON text messages, not binary")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"event is not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(body, dict):
        raise InvalidEvent("an event is a JSON object")
    return body


CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.delete",
    "conversation.item.truncate",
    "response.create",
    "response.cancel",
)
