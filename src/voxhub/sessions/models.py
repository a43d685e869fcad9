"""What a session is: its mode flags, its configuration overrides and its history messages."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from voxhub.engines.llm.base import ToolCall
from voxhub.engines.registry import check_engine_name
from voxhub.errors import InputError, UnknownEngineError
from voxhub.sessions.profiles import DEFAULT_PROFILE

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = get_args(Role)

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_flag(key: str, value: object) -> bool:
    """A bool from a bool, 0/1, or one of true/false/1/0/yes/no/on/off (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    raise InputError(
        f"mode flag {key!r} must be true or false (got {value!r})",
        details={"flag": key, "value": repr(value)},
    )


@dataclass(frozen=True, slots=True)
class Mode:
    """Which ways a session talks: the four flags of seed 001."""

    voice_input: bool = True
    text_input: bool = True
    voice_output: bool = True
    text_output: bool = True

    @classmethod
    def from_flags(cls, flags: Mapping[str, object], base: Mode | None = None) -> Mode:
        """`base` (default: all on) with `flags` applied; raises InputError for unknown or bad flags."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(key) for key in flags if key not in known)
        if unknown:
            raise InputError(
                f"unknown mode flags: {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                details={"unknown": unknown, "known": sorted(known)},
            )
        parsed = {key: parse_flag(key, value) for key, value in flags.items()}
        mode = dataclasses.replace(base or cls(), **parsed)
        if not (mode.voice_input or mode.text_input) or not (mode.voice_output or mode.text_output):
            raise InputError(
                "a session needs at least one input and one output", details={"mode": mode.to_dict()}
            )
        return mode

    def to_dict(self) -> dict[str, bool]:
        return {
            "voice_input": self.voice_input,
            "text_input": self.text_input,
            "voice_output": self.voice_output,
            "text_output": self.text_output,
        }


_TEXT_LIMITS = {
    "system_prompt": 20_000,
    "persona": 200,
    "language": 35,
    "voice": 200,
    "user_id": 200,
    "area": 200,
}
_ENGINE_STAGES: dict[str, Literal["stt", "tts", "llm"]] = {
    "stt_engine": "stt",
    "tts_engine": "tts",
    "llm_engine": "llm",
}


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """A session's overrides of the server settings; None means "use the setting"."""

    system_prompt: str | None = None
    persona: str | None = None
    language: str | None = None
    voice: str | None = None
    stt_engine: str | None = None
    tts_engine: str | None = None
    llm_engine: str | None = None
    profile: str = DEFAULT_PROFILE
    mode: Mode = field(default_factory=Mode)
    user_id: str | None = None
    avatar: bool = False  # send `viseme` events (mouth shapes timed to the speech) for an animated face
    partial_transcripts: bool = True  # False: no partial transcripts while the user speaks (less CPU)
    area: str | None = (
        None  # the Home Assistant area it listens in (a satellite's), for "turn off the lights"
    )

    def updated(self, changes: Mapping[str, Any]) -> SessionConfig:
        """A copy with `changes` applied, validated; an empty string resets a text field to the setting.

        `mode` may be a Mode or a mapping of flags applied over the current mode. Whether the named
        profile exists is the session manager's check, since custom profiles live in the store.
        """
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(str(key) for key in changes if key not in known)
        if unknown:
            raise InputError(
                f"unknown session settings: {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                details={"unknown": unknown, "known": sorted(known)},
            )
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "mode":
                values[key] = _mode(value, self.mode)
            elif key == "profile":
                values[key] = _text(key, value, limit=64) or DEFAULT_PROFILE
            elif key in _ENGINE_STAGES:
                values[key] = _engine(key, value)
            elif key == "avatar":
                values[key] = value is not None and parse_flag(key, value)
            elif key == "partial_transcripts":
                values[key] = value is None or parse_flag(key, value)
            else:
                values[key] = _text(key, value, limit=_TEXT_LIMITS[key])
        return dataclasses.replace(self, **values)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["mode"] = self.mode.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionConfig:
        """The config `to_dict` produced (or any subset of it), validated like `updated`."""
        return cls().updated(data)


def _mode(value: object, current: Mode) -> Mode:
    if isinstance(value, Mode):
        return value
    if isinstance(value, Mapping):
        return Mode.from_flags(value, base=current)
    raise InputError(f"mode must be an object of flags (got {value!r})", details={"setting": "mode"})


def _text(key: str, value: object, *, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{key} must be a string (got {value!r})", details={"setting": key})
    if len(value) > limit:
        raise InputError(f"{key} is longer than {limit} characters", details={"setting": key, "limit": limit})
    return value.strip() or None


def _engine(key: str, value: object) -> str | None:
    name = _text(key, value, limit=64)
    if name is None:
        return None
    try:
        return check_engine_name(_ENGINE_STAGES[key], name)
    except UnknownEngineError as exc:
        # A request naming an engine is bad input (400), not a server misconfiguration.
        raise InputError(exc.message, details=exc.details) from None


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    """One message of a conversation as stored; `interrupted` marks an answer cut short by barge-in."""

    role: Role
    content: str
    turn_id: str | None = None
    interrupted: bool = False
    created_at: float = 0.0  # unix seconds; 0 means "when appended"
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant message that called tools
    tool_call_id: str | None = None  # a tool message: the call it answers

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "role": self.role,
            "content": self.content,
            "turn_id": self.turn_id,
            "interrupted": self.interrupted,
            "created_at": self.created_at,
        }
        if self.tool_calls:
            body["tool_calls"] = [
                {"id": call.id, "name": call.name, "arguments": call.arguments_json}
                for call in self.tool_calls
            ]
        if self.tool_call_id:
            body["tool_call_id"] = self.tool_call_id
        return body

    def tool_json(self) -> str | None:
        """The tool fields as stored (None for a plain message)."""
        if not self.tool_calls and not self.tool_call_id:
            return None
        body = self.to_dict()
        return json.dumps({key: body[key] for key in ("tool_calls", "tool_call_id") if key in body})

    @classmethod
    def with_tool_json(cls, message: HistoryMessage, stored: str | None) -> HistoryMessage:
        if not stored:
            return message
        body = json.loads(stored)
        calls = tuple(
            ToolCall(call["id"], call["name"], call["arguments"]) for call in body.get("tool_calls", ())
        )
        return dataclasses.replace(message, tool_calls=calls, tool_call_id=body.get("tool_call_id"))
