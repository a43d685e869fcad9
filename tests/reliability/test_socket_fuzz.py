"""A burst of malformed messages on a conversation socket: each is answered by an error event, the socket
stays open, and a healthy turn beside it completes (docs/reliability.md, "WebSocket fuzz").

`benchmarks/reliability.py ws-fuzz` sends the long version of the same burst on every WebSocket route.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import websockets

from tests.api.sockets import TEXT_ONLY, Start, connect, ws_url
from tests.protocols.realtime_client import TEXT_ONLY as REALTIME_TEXT_ONLY
from tests.protocols.realtime_client import ask_in_text, realtime

LIMIT_BYTES = 4096  # max_ws_message_bytes here: an oversize message stays small to send
ROUNDS = 5  # the burst is ROUNDS × every malformed kind, sent without waiting for answers
FUZZ = {"max_ws_message_bytes": LIMIT_BYTES, "control_messages_per_sec": 1000.0, "wyoming_enabled": False}


def malformed(wrong_types: dict[str, Any]) -> list[str | bytes]:
    """Bad JSON, wrong types, an unknown type, nesting 5,000 deep, oversize, binary junk over the limit."""
    return [
        '{"type": "text_message", "data": {"text": "unfinished',
        json.dumps(wrong_types),
        json.dumps({"type": "no_such_type", "data": {}}),
        "[" * 5000 + "]" * 5000,
        json.dumps({"type": "text_message", "data": {"text": "x" * LIMIT_BYTES}}),
        os.urandom(LIMIT_BYTES + 1),
    ]


async def burst(
    connection: websockets.ClientConnection, messages: list[str | bytes], probe: dict[str, Any], answer: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Send every message, then the probe; the error events that came back before the probe's answer."""
    for message in messages:
        await connection.send(message)
    await connection.send(json.dumps(probe))
    errors = []
    async with asyncio.timeout(60):
        while True:
            received = await connection.recv()
            if isinstance(received, bytes):
                continue
            event = json.loads(received)
            if event["type"] == "error":
                errors.append(event)
            elif event["type"] == answer:
                return errors, event


async def test_a_burst_of_malformed_messages_on_the_native_socket_gets_one_error_each_and_a_turn_beside_it_completes(
    start: Start,
) -> None:
    messages = malformed({"type": "text_message", "data": {"text": 12345}}) * ROUNDS
    async with start(**FUZZ) as url, connect(url, TEXT_ONLY) as fuzzed, connect(url, TEXT_ONLY) as healthy:
        await healthy.send("text_message", text="What is the capital of France?")
        (errors, pong), answer = await asyncio.gather(
            burst(fuzzed.connection, messages, {"type": "ping", "data": {}}, "pong"),
            healthy.until("response", timeout_secs=120),
        )

    codes = [error["data"]["code"] for error in errors]
    assert len(codes) == len(messages)
    assert set(codes) == {"invalid_message", "unknown_message_type", "message_too_large"}
    assert pong["type"] == "pong"  # the same socket still answers
    assert "paris" in answer["data"]["text"].lower()


async def test_a_burst_of_malformed_events_on_realtime_gets_one_error_each_and_a_turn_beside_it_completes(
    start: Start,
) -> None:
    messages = malformed({"type": "session.update", "session": {"instructions": 5}}) * ROUNDS
    async with start(**FUZZ) as url:
        base = url.replace("http", "ws", 1)
        async with realtime(base) as healthy:
            await healthy.send(REALTIME_TEXT_ONLY)
            await healthy.until("session.updated")
            async with websockets.connect(ws_url(url, path="/v1/realtime"), max_queue=None) as fuzzed:
                (errors, cleared), done = await asyncio.gather(
                    burst(
                        fuzzed, messages, {"type": "input_audio_buffer.clear"}, "input_audio_buffer.cleared"
                    ),
                    ask_in_text(healthy, "What is the capital of France?"),
                )

    assert len(errors) == len(messages)
    assert all(error["error"]["message"] for error in errors)
    assert cleared["type"] == "input_audio_buffer.cleared"  # the same socket still answers
    assert done["response"]["status"] == "completed"
