"""OpenAI Realtime event shapes: GA names with beta aliases, session objects, items and `session.update`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from voxhub.engines.llm.base import ToolSpec
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
TOOL_CHOICE_WORDS = ("auto", "none", "required")
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
    create_response: bool = True  # False: an utterance is committed and waits for `response.create`
    interrupt_response: bool = True  # False: the user speaking does not stop the answer
    tools: tuple[ToolSpec, ...] = ()  # the client's functions: their calls go back to the client
    tool_choice: str = "auto"  # "auto", "none", "required" or a function's name

    @property
    def answers_speech(self) -> bool:
        """Whether an utterance is answered without `response.create` (never with manual commits)."""
        return self.create_response and self.turn_detection is not None


def session_object(config: RealtimeConfig, session_id: str, model: str, beta: bool) -> dict[str, Any]:
    """The `session` of `session.created` / `session.updated`, in the dialect's shape."""
    detection = None
    if config.turn_detection is not None:
        detection = {
            "type": config.turn_detection,
            "create_response": config.create_response,
            "interrupt_response": config.interrupt_response,
        }
    tools = [
        {"type": "function", "name": t.name, "description": t.description, "parameters": dict(t.parameters)}
        for t in config.tools
    ]
    choice: str | dict[str, str] = config.tool_choice
    if choice not in TOOL_CHOICE_WORDS:
        choice = {"type": "function", "name": config.tool_choice}
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
            "tools": tools,
            "tool_choice": choice,
        }
    audio_format = {"type": "audio/pcm", "rate": REALTIME_RATE_HZ}
    return {
        "type": "realtime",
        "id": session_id,
        "object": "realtime.session",
        "model": model,
        "output_modalities": ["audio"] if config.audio_output else ["text"],
        "instructions": config.instructions or "",
        "tools": tools,
        "tool_choice": choice,
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
            changes.update(_turn_detection(source["turn_detection"]))
    if "tools" in session:
        changes["tools"] = _tools(session["tools"])
    if "tool_choice" in session:
        names = {tool.name for tool in changes.get("tools", config.tools)}
        changes["tool_choice"] = _tool_choice(session["tool_choice"], names)
    if "instructions" in session:
        changes["instructions"] = _text(session["instructions"], "instructions")
    if "voice" in audio_out or "voice" in session:
        changes["voice"] = _text(audio_out.get("voice", session.get("voice")), "voice")
    return replace(config, **changes)


def _text(value: Any, name: str) -> str | None:
    """A string field, or null for the server's default; any other type is refused, never coerced."""
    if value is not None and not isinstance(value, str):
        raise InvalidEvent(f"{name} must be a string, not {type(value).__name__}", details={"param": name})
    return value


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


def _turn_detection(value: Any) -> dict[str, Any]:
    """The config fields a `turn_detection` sets."""
    if value is None:
        return {"turn_detection": None}
    detection = _object(value, "turn_detection")
    kind = detection.get("type", "server_vad")
    if kind not in ("server_vad", "semantic_vad"):
        raise InvalidEvent(
            f"turn_detection type {kind!r} is not supported", details={"param": "turn_detection"}
        )
    changes: dict[str, Any] = {"turn_detection": "server_vad"}  # semantic_vad: the same VAD endpointing
    for key in ("create_response", "interrupt_response"):
        if key in detection:
            if not isinstance(detection[key], bool):
                raise InvalidEvent(f"turn_detection.{key} must be true or false", details={"param": key})
            changes[key] = detection[key]
    return changes


def _tools(value: Any) -> tuple[ToolSpec, ...]:
    """`session.tools`: functions as `{type: "function", name, description, parameters}`."""
    if not isinstance(value, list):
        raise InvalidEvent("session.tools must be a list of functions", details={"param": "tools"})
    tools = []
    for index, tool in enumerate(value):
        tool = _object(tool, f"tools[{index}]")
        name = tool.get("name")
        if tool.get("type", "function") != "function" or not isinstance(name, str) or not name:
            raise InvalidEvent(
                f'tools[{index}]: only {{"type": "function", "name": ...}} tools are supported',
                details={"param": "tools"},
            )
        parameters = _object(tool.get("parameters"), f"tools[{index}].parameters")
        tools.append(
            ToolSpec(
                name, str(tool.get("description") or ""), parameters or {"type": "object", "properties": {}}
            )
        )
    return tuple(tools)


def _tool_choice(value: Any, names: set[str]) -> str:
    """`tool_choice`: a word, or a named function (`{type: "function", name}`, beta or GA)."""
    if isinstance(value, str) and value in TOOL_CHOICE_WORDS:
        return value
    choice = _object(value, "tool_choice") if not isinstance(value, str) else {"name": value}
    function = choice.get("function")
    name = choice.get("name") or (function.get("name") if isinstance(function, Mapping) else None)
    if not isinstance(name, str) or name not in names:
        raise InvalidEvent(
            f"tool_choice must be auto, none, required or one of the session's functions, not {value!r}",
            details={"param": "tool_choice", "tools": sorted(names)},
        )
    return name


def message_item(item_id: str, role: str, content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "role": role,
        "status": status,
        "content": content,
    }


def function_output(item: Mapping[str, Any]) -> tuple[str, str]:
    """The `(call_id, output)` of a `function_call_output` item."""
    call_id, output = item.get("call_id"), item.get("output")
    if not isinstance(call_id, str) or not call_id or not isinstance(output, str):
        raise InvalidEvent(
            "a function_call_output item needs a string `call_id` and `output`", details={"param": "item"}
        )
    return call_id, output


def function_call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "function_call",
        "status": status,
        "name": name,
        "call_id": call_id,
        "arguments": arguments,
    }


def function_output_item(item_id: str, call_id: str, output: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "function_call_output",
        "status": "completed",
        "call_id": call_id,
        "output": output,
    }


def user_text(item: Mapping[str, Any]) -> str:
    """The text of a `conversation.item.create` user message (`input_text` / `text` content parts)."""
    if item.get("type", "message") != "message" or item.get("role") != "user":
        raise UnsupportedEvent(
            "conversation.item.create: only user messages and function_call_output items are supported",
            details={"param": "item"},
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


def stable_words(previous: str, partial: str) -> str:
    """The words two successive partial transcripts agree on, from the start (never `partial`'s last word,
    which the audio may have cut mid-word): likely to stay in the final transcript."""
    before, now = previous.split(), partial.split()[:-1]
    agreed = 0
    while agreed < min(len(before), len(now)) and _word(before[agreed]) == _word(now[agreed]):
        agreed += 1
    return " ".join(now[:agreed]).rstrip(",.!?;:…")


def _word(token: str) -> str:
    return token.strip(",.!?;:…\"'").lower()


def transcript_delta(sent: str, partial: str) -> str:
    """What of `partial` extends the transcript `sent` so far as deltas ("" when it does not)."""
    return partial[len(sent) :] if partial.startswith(sent) else ""


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
