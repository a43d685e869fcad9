"""Reading Wyoming frames strictly: a malformed frame is an error, never a quiet end of stream.

`wyoming.event.async_read_event` returns None both at the end of the stream and on a parse error, so a
client could not tell a rejected frame from a clean close; this reader tells them apart. A frame read to its
end but wrong inside (bad JSON, too deep, no `type`) is a FrameError and the next frame can be read; one whose
end cannot be found (a bad length, a cut-off payload, a header line over the limit) is a BrokenFrameError,
after which the stream is out of step and the connection must close.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from wyoming.event import Event

from voxhub.errors import InputError

MAX_HEADER_BYTES = 64 * 1024  # a header line and its extra data are small JSON objects
MAX_JSON_DEPTH = 32  # Wyoming's own events nest three levels; `context` objects a few more


class FrameError(InputError):
    """The client sent something that is not a well-formed Wyoming event."""

    code = "invalid_frame"
    fatal: ClassVar[bool] = False  # the stream is still in step: the next event can be read


class BrokenFrameError(FrameError):
    """A frame whose end cannot be found: nothing after it can be read."""

    fatal = True


async def read_frame(reader: asyncio.StreamReader, *, max_payload_bytes: int) -> Event | None:
    """The next event, or None when the client closed the connection between events."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BrokenFrameError("the connection closed in the middle of an event header") from None
    except asyncio.LimitOverrunError:
        raise BrokenFrameError(f"event header line longer than {MAX_HEADER_BYTES} bytes") from None
    header = _json_object(line, "event header")
    # The lengths first: whatever else is wrong, the frame's extra data and payload are read past.
    data_length = _length(header, "data_length", MAX_HEADER_BYTES)
    payload_length = _length(header, "payload_length", max_payload_bytes)
    extra = await _read_exactly(reader, data_length, "data") if data_length else None
    payload = await _read_exactly(reader, payload_length, "payload") if payload_length else None
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise FrameError("event header has no `type` string")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise FrameError("event `data` must be a JSON object")
    if extra is not None:
        data.update(_json_object(extra, "event data"))
    return Event(type=event_type, data=data, payload=payload)


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise FrameError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels") from None
    if not isinstance(value, dict):
        raise FrameError(f"{what} must be a JSON object")
    if _too_deep(value):
        raise FrameError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def _too_deep(value: object) -> bool:
    """Whether `value` has containers nested over MAX_JSON_DEPTH deep (iterative: no recursion to blow)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    return True
                pending.append((child, depth + 1))
    return False


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BrokenFrameError(f"`{key}` must be a non-negative integer, got {repr(value)[:40]}")
    if value > limit:
        raise BrokenFrameError(f"`{key}` is {value} bytes; the limit is {limit}")
    return value


async def _read_exactly(reader: asyncio.StreamReader, length: int, what: str) -> bytes:
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise BrokenFrameError(
            f"the connection closed after {len(exc.partial)} of the {length} {what} bytes announced"
        ) from None
