"""Reading Wyoming frames strictly: a malformed frame is an error, never a quiet end of stream.

`wyoming.event.async_read_event` returns None both at the end of the stream and on a parse error, so a
client could not tell a rejected frame from a clean close; this reader tells them apart.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from wyoming.event import Event

from voxhub.errors import InputError

MAX_HEADER_BYTES = 64 * 1024  # a header line and its extra data are small JSON objects


class FrameError(InputError):
    """The client sent something that is not a well-formed Wyoming event."""

    code = "invalid_frame"


async def read_frame(reader: asyncio.StreamReader, *, max_payload_bytes: int) -> Event | None:
    """The next event, or None when the client closed the connection between events."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise FrameError("the connection closed in the middle of an event header") from None
    except asyncio.LimitOverrunError:
        raise FrameError(f"event header line longer than {MAX_HEADER_BYTES} bytes") from None
    header = _json_object(line, "event header")
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise FrameError("event header has no `type` string")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise FrameError("event `data` must be a JSON object")
    data_length = _length(header, "data_length", MAX_HEADER_BYTES)
    if data_length:
        data.update(_json_object(await _read_exactly(reader, data_length, "data"), "event data"))
    payload_length = _length(header, "payload_length", max_payload_bytes)
    payload = await _read_exactly(reader, payload_length, "payload") if payload_length else None
    return Event(type=event_type, data=data, payload=payload)


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise FrameError(f"{what} must be a JSON object")
    return value


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FrameError(f"`{key}` must be a non-negative integer, got {value!r}")
    if value > limit:
        raise FrameError(f"`{key}` is {value} bytes; the limit is {limit}")
    return value


async def _read_exactly(reader: asyncio.StreamReader, length: int, what: str) -> bytes:
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise FrameError(
            f"the connection closed after {len(exc.partial)} of the {length} {what} bytes announced"
        ) from None
