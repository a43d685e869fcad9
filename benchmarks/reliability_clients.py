"""What `reliability.py` sends: the malformed messages per WebSocket route, Wyoming frames, and the clients
that send them and tally what came back. Not a benchmark itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from wyoming.client import AsyncTcpClient
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe
from wyoming.tts import Synthesize

TEXT_ONLY = "voice_input=false&voice_output=false"
REPLY_SECS = 60.0  # longest wait for any one answer: a phase never hangs


def source(index: int) -> tuple[str, int]:
    """A loopback source address per client (127.0.1.1, 127.0.1.2, …): the per-address caps see many clients."""
    return (f"127.0.{1 + index // 250}.{1 + index % 250}", 0)


def is_error(body: dict[str, Any]) -> bool:
    return body.get("type") == "error" or body.get("event") == "error"


@dataclass(frozen=True)
class Route:
    """One WebSocket route: how to tell it is alive, and its own wrong-typed message."""

    path: str
    probe: dict[str, Any]  # a cheap message ...
    answer: str  # ... and the `type` (or `event`) of its answer
    wrong_types: dict[str, Any]


NATIVE_PING = {"type": "ping", "data": {}}
ROUTES = (
    Route("/ws", NATIVE_PING, "pong", {"type": "text_message", "data": {"text": 12345}}),
    Route(
        "/v1/realtime",
        {"type": "input_audio_buffer.clear"},
        "input_audio_buffer.cleared",
        {"type": "session.update", "session": {"instructions": 5}},
    ),
    Route("/ws/flexible", NATIVE_PING, "pong", {"type": "text_message", "data": {"text": ["a"]}}),
    Route("/ws/auth", NATIVE_PING, "pong", {"type": "config_update", "data": {"persona": 5}}),
    Route("/ws/voice-session", {"type": "ping"}, "pong", {"type": "init", "character_details": 5}),
    Route("/api/v1/ws", NATIVE_PING, "pong", {"type": "config_update", "data": {"mode": 5}}),
    Route("/api/v1/sessions/{session}/ws", NATIVE_PING, "pong", {"type": "text_message", "data": {}}),
)


def malformed(route: Route, limit_bytes: int) -> list[tuple[str, str | bytes]]:
    """The six kinds of bad message, by name: each must be answered by one error event."""
    return [
        ("bad JSON", '{"type": "text_message", "data": {"text": "unfinished'),
        ("wrong types", json.dumps(route.wrong_types)),
        ("unknown type", json.dumps({"type": "no_such_type", "data": {}})),
        ("nested 5,000 deep", "[" * 5000 + "]" * 5000),
        ("oversize", json.dumps({"type": "text_message", "data": {"text": "x" * limit_bytes}})),
        ("binary junk", os.urandom(limit_bytes + 1)),
    ]


@dataclass
class FuzzTally:
    sent: int = 0
    answered: int = 0  # malformed messages answered by an error event
    alive: int = 0  # sockets that still answered the probe after their burst
    dropped: int = 0  # sockets that ended without a close frame (or never opened)
    unanswered: dict[str, int] = field(default_factory=dict)


async def until(connection: websockets.ClientConnection, want: str | None) -> dict[str, Any]:
    """The next message whose type is `want` (None: the next error event); others are skipped."""
    async with asyncio.timeout(REPLY_SECS):
        while True:
            message = await connection.recv()
            if isinstance(message, bytes):
                continue
            body = json.loads(message)
            if body.get("type", body.get("event")) == want or (want is None and is_error(body)):
                return body  # type: ignore[no-any-return]


async def fuzz_socket(url: str, route: Route, rounds: int, limit_bytes: int, tally: FuzzTally) -> None:
    """One socket: `rounds` × the six malformed messages, each awaited as an error, then the probe again."""
    try:
        async with websockets.connect(url, max_queue=None, ping_interval=None, max_size=None) as socket:
            await socket.send(json.dumps(route.probe))
            await until(socket, route.answer)
            for _ in range(rounds):
                for kind, message in malformed(route, limit_bytes):
                    tally.sent += 1
                    await socket.send(message)
                    try:
                        await until(socket, None)
                        tally.answered += 1
                    except TimeoutError:
                        tally.unanswered[kind] = tally.unanswered.get(kind, 0) + 1
            await socket.send(json.dumps(route.probe))
            await until(socket, route.answer)
            tally.alive += 1
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is None:
            tally.dropped += 1
    except (OSError, TimeoutError, websockets.InvalidHandshake):
        tally.dropped += 1


async def opened(socket: websockets.ClientConnection) -> None:
    """Wait for `session_started` and the greeting's `response` a new native conversation opens with."""
    await until(socket, "session_started")
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await until(socket, "response")


async def native_turn(
    base_url: str, query: str = TEXT_ONLY, text: str = "What is the capital of France?"
) -> float:
    """One text turn on a fresh native socket; its seconds from question to `response`."""
    ws = base_url.replace("http", "ws", 1)
    async with websockets.connect(f"{ws}/ws?{query}", max_queue=None, ping_interval=None) as socket:
        await opened(socket)
        started = time.monotonic()
        await socket.send(json.dumps({"type": "text_message", "data": {"text": text}}))
        await until(socket, "response")
        return time.monotonic() - started


async def realtime_turn(base_url: str) -> float:
    """One text turn on `/v1/realtime`; its seconds from `response.create` to `response.done`."""
    ws = base_url.replace("http", "ws", 1)
    async with websockets.connect(f"{ws}/v1/realtime", max_queue=None, ping_interval=None) as socket:
        await until(socket, "session.created")
        update = {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}
        await socket.send(json.dumps(update))
        await until(socket, "session.updated")
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi there."}]}
        await socket.send(json.dumps({"type": "conversation.item.create", "item": item}))
        started = time.monotonic()
        await socket.send(json.dumps({"type": "response.create"}))
        done = await until(socket, "response.done")
        assert done["response"]["status"] == "completed", done
        return time.monotonic() - started


# -- Wyoming --------------------------------------------------------------------------------------------


def wyoming_frames() -> list[tuple[str, bytes | Event]]:
    """Bad Wyoming input by name: raw bytes, or an Event the `wyoming` client itself writes."""
    header = json.dumps
    return [
        ("bad JSON", b"this is not json\n"),
        ("wrong types", Event("synthesize", {"text": 5})),
        ("unknown type", Event("no-such-event", {})),
        ("nested 5,000 deep", b'{"type": "describe", "data": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}\n"),
        ("oversize", header({"type": "audio-chunk", "payload_length": 10**9}).encode() + b"\n"),
        ("binary junk", os.urandom(4096).replace(b"\n", b"") + b"\n"),
    ]


@dataclass
class WyomingTally:
    sent: int = 0
    answered: int = 0  # bad frames answered by an `error` event
    kept: int = 0  # connections that then still answered `describe`
    closed: int = 0  # connections closed cleanly (FIN) after the error: framing is lost
    dropped: int = 0  # connections ended without an error, or reset
    unanswered: dict[str, int] = field(default_factory=dict)


async def wyoming_bad_frame(port: int, kind: str, frame: bytes | Event, tally: WyomingTally) -> None:
    """One connection: the bad frame, then `describe`; an error must come first."""
    tally.sent += 1
    try:
        async with asyncio.timeout(REPLY_SECS):
            if isinstance(frame, Event):
                client = AsyncTcpClient("127.0.0.1", port)
                await client.connect()
                reader, writer = client._reader, client._writer  # the library's own streams
                assert reader is not None
                assert writer is not None
                await client.write_event(frame)
            else:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(frame)
            await async_write_event(Describe().event(), writer)
            first = await async_read_event(reader)
            if first is None or first.type != "error":
                tally.dropped += 1
                tally.unanswered[kind] = tally.unanswered.get(kind, 0) + 1
                return
            tally.answered += 1
            second = await async_read_event(reader)
            if second is None:
                tally.closed += 1
            else:
                tally.kept += 1
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    except (OSError, TimeoutError, ValueError):
        tally.dropped += 1
        tally.unanswered[kind] = tally.unanswered.get(kind, 0) + 1


async def wyoming_synthesis(port: int) -> float:
    """A healthy `synthesize` with the `wyoming` client: seconds to `audio-stop`."""
    started = time.monotonic()
    async with AsyncTcpClient("127.0.0.1", port) as client, asyncio.timeout(REPLY_SECS):
        await client.write_event(Synthesize(text="The light is on.").event())
        while (event := await client.read_event()) is not None:
            if event.type == "audio-stop":
                return time.monotonic() - started
            if event.type == "error":
                raise RuntimeError(f"synthesis failed: {event.data}")
    raise RuntimeError("the server closed the connection mid-synthesis")
