"""Malformed frames get an `error` event and a clean close, never a silent end of stream."""

from __future__ import annotations

import asyncio
import json

import pytest
from wyoming.error import Error
from wyoming.event import async_read_event

from tests.protocols.wyoming.conftest import Voxhub


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
