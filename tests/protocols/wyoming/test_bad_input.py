"""Malformed frames get an `error` event, never a silent end of stream; a well-framed event with wrong data
gets `invalid_frame` and the connection keeps working."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from wyoming.error import Error
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe

from tests.protocols.wyoming.conftest import Voxhub, read_until


async def send_raw(voxhub: Voxhub, data: bytes) -> list[str]:
    """Write `data`, half-close, and return the type of each event received until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", voxhub.wyoming_port)
    writer.write(data)
    writer.write_eof()
    received = []
    async with asyncio.timeout(10):
        while (event := await async_read_event(reader)) is not None:
            received.append(Error.from_event(event).code if event.type == "error" else event.type)
    writer.close()
    return received


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"this is not json\n", "invalid_frame"),
        (
            json.dumps({"type": "audio-chunk", "payload_length": 100}).encode() + b"\n" + bytes(10),
            "invalid_frame",
        ),
        (json.dumps({"type": "no-such-event"}).encode() + b"\n", "invalid_frame"),
        (json.dumps({"type": "synthesize", "data": {}}).encode() + b"\n", "invalid_frame"),
    ],
    ids=["bad-json-header", "short-payload", "unknown-event", "missing-field"],
)
async def test_a_malformed_frame_gets_an_error_then_the_connection_closes(
    voxhub: Voxhub, frame: bytes, code: str
) -> None:
    assert await send_raw(voxhub, frame) == [code]


async def test_a_payload_over_the_audio_limit_is_refused(voxhub: Voxhub) -> None:
    header = json.dumps({"type": "audio-chunk", "payload_length": 10**9}).encode() + b"\n"

    assert await send_raw(voxhub, header) == ["invalid_frame"]


async def test_a_header_nested_3000_levels_deep_gets_invalid_frame_and_describe_still_answers(
    voxhub: Voxhub,
) -> None:
    deep = b'{"type": "describe", "data": {"x": ' + b"[" * 3000 + b"]" * 3000 + b"}}\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", voxhub.wyoming_port)
    try:
        writer.write(deep)
        await async_write_event(Describe().event(), writer)
        async with asyncio.timeout(30):
            first, second = await async_read_event(reader), await async_read_event(reader)
    finally:
        writer.close()

    assert [event.type if event else None for event in (first, second)] == ["error", "info"]
    assert first is not None
    error = Error.from_event(first)
    assert error.code == "invalid_frame"
    assert "Traceback" not in error.text


WRONG_TYPES: list[tuple[str, dict[str, Any], bytes | None, str]] = [
    ("synthesize", {"text": 5}, None, "text"),
    ("synthesize", {"text": "Hello.", "voice": "amy"}, None, "voice"),
    ("synthesize", {"text": "Hello.", "voice": {"name": 7}}, None, "name"),
    ("synthesize-start", {"voice": ["amy"]}, None, "voice"),
    ("transcribe", {"language": 5}, None, "language"),
    ("detect", {"names": "hey_jarvis"}, None, "names"),
    ("audio-start", {"rate": "16000", "width": 2, "channels": 1}, None, "rate"),
    ("audio-chunk", {"rate": 16000, "width": 2, "channels": True}, bytes(4), "channels"),
    ("transcript", {"text": ["turn", "on"]}, None, "text"),
    ("transcript", {"text": "Hello.", "context": "ha-conv-1"}, None, "context"),
    ("ping", {"text": 5}, None, "text"),
]


@pytest.mark.parametrize(
    ("kind", "data", "payload", "field"),
    WRONG_TYPES,
    ids=[f"{kind}-{field}" for kind, _, _, field in WRONG_TYPES],
)
async def test_an_event_with_a_wrong_type_gets_invalid_frame_and_the_connection_keeps_working(
    voxhub: Voxhub, kind: str, data: dict[str, Any], payload: bytes | None, field: str
) -> None:
    async with voxhub.client() as client:
        await client.write_event(Event(type=kind, data=data, payload=payload))
        await client.write_event(Describe().event())
        replies = await read_until(client, "info")

    assert [event.type for event in replies] == ["error", "info"]
    error = Error.from_event(replies[0])
    assert error.code == "invalid_frame"
    assert field in error.text
    assert "Traceback" not in error.text
