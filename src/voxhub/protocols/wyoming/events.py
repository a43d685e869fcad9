"""Strict models of the data of every event a client may send; wrong data is a FrameError (`invalid_frame`).

The `wyoming` package's `from_event` trusts the data (`synthesize {"text": 5}` becomes a Synthesize whose text
is an int, which fails deep inside an engine); each event's data is checked here first, then handed over.
Unknown fields are ignored, as newer clients add some; known ones must have their documented type.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError
from wyoming.event import Event, Eventable

from voxhub.protocols.wyoming.framing import FrameError

E = TypeVar("E", bound=Eventable)
MAX_TEXT_CHARS = 10_000  # as the HTTP `/synthesize` route

Text = Annotated[StrictStr, Field(max_length=MAX_TEXT_CHARS)]
Timestamp = StrictInt | StrictFloat | None
Context = dict[str, Any] | None


class _Data(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Voice(_Data):
    name: StrictStr | None = None
    language: StrictStr | None = None
    speaker: StrictStr | None = None


class _Empty(_Data):
    pass


class _Ping(_Data):
    text: StrictStr | None = None


class _Transcribe(_Data):
    name: StrictStr | None = None
    language: StrictStr | None = None
    context: Context = None


class _Detect(_Data):
    names: list[StrictStr] | None = None
    context: Context = None


class _AudioFormat(_Data):
    rate: StrictInt
    width: StrictInt
    channels: StrictInt
    timestamp: Timestamp = None


class _AudioStop(_Data):
    timestamp: Timestamp = None


class _Synthesize(_Data):
    text: Text
    voice: _Voice | None = None
    context: Context = None


class _SynthesizeStart(_Data):
    voice: _Voice | None = None
    context: Context = None


class _SynthesizeChunk(_Data):
    text: Text


class _Transcript(_Data):
    text: Text
    language: StrictStr | None = None
    context: Context = None


MODELS: dict[str, type[_Data]] = {
    "describe": _Empty,
    "ping": _Ping,
    "transcribe": _Transcribe,
    "detect": _Detect,
    "audio-start": _AudioFormat,
    "audio-chunk": _AudioFormat,
    "audio-stop": _AudioStop,
    "synthesize": _Synthesize,
    "synthesize-start": _SynthesizeStart,
    "synthesize-chunk": _SynthesizeChunk,
    "synthesize-stop": _Empty,
    "transcript": _Transcript,
}


def checked(event: Event) -> Event:
    """The event with its data validated (absent optional fields dropped); FrameError if it is wrong."""
    model = MODELS.get(event.type)
    if model is None:
        return event  # the handler answers an unknown type
    try:
        data = model.model_validate(event.data)
    except ValidationError as exc:
        raise FrameError(
            f"malformed {event.type} event: {_summary(exc)}",
            details={"type": event.type, "fields": [_where(error["loc"]) for error in exc.errors()]},
        ) from None
    return Event(type=event.type, data=data.model_dump(exclude_none=True), payload=event.payload)


def parse(kind: type[E], event: Event) -> E:
    """The typed event of data `checked` already validated."""
    parsed = kind.from_event(event)
    assert isinstance(parsed, kind)
    return parsed


def _summary(exc: ValidationError) -> str:
    """`field: problem` for each error (never the value sent, which may be huge)."""
    return "; ".join(f"{_where(error['loc'])}: {error['msg']}" for error in exc.errors(include_input=False))


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "data"
