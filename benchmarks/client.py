"""The client side of the conversation-server benchmarks: test speech, a microphone, and a receiver that
timestamps everything the server sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets

from harness import now
from voxhub.audio import PcmAudio, resample
from voxhub.engines.tts.base import TtsEngine, synthesize_all

RATE_HZ = 16000
FRAME_MS = 20
FRAME_BYTES = RATE_HZ * FRAME_MS // 1000 * 2  # 640
SILENCE_FRAME = bytes(FRAME_BYTES)


# -- test speech ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    """A 16 kHz utterance and where its speech starts and ends, found from its loudness."""

    text: str
    audio: PcmAudio
    onset_ms: float
    end_ms: float

    @property
    def frames(self) -> list[bytes]:
        pcm = self.audio.pcm_s16le
        padded = pcm + bytes(-len(pcm) % FRAME_BYTES)
        return [padded[i : i + FRAME_BYTES] for i in range(0, len(padded), FRAME_BYTES)]


def speech_bounds_ms(
    audio: PcmAudio, window_ms: float = 10.0, floor_db: float = -35.0
) -> tuple[float, float]:
    """First and last moment of speech: windows within `floor_db` of the loudest one count as speech."""
    samples = audio.samples().astype(np.float32)
    size = int(audio.sample_rate_hz * window_ms / 1000)
    count = len(samples) // size
    rms = np.sqrt(np.mean(samples[: count * size].reshape(count, size) ** 2, axis=1)) + 1e-9
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > floor_db)
    return float(loud[0] * window_ms), float((loud[-1] + 1) * window_ms)


async def speech_clip(tts: TtsEngine, text: str) -> Clip:
    """`text` spoken by a voxhub TTS engine, at 16 kHz, trimmed to its speech."""
    audio = resample(await synthesize_all(tts, text), RATE_HZ)
    onset, end = speech_bounds_ms(audio)
    trimmed = audio.slice_ms(onset, end)
    return Clip(text, trimmed, 0.0, trimmed.duration_ms)


# -- client -----------------------------------------------------------------------------------------


class Receiver:
    """Keeps every server message with the time it arrived; audio frames are logged as "audio"."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.log: list[tuple[float, str, dict[str, Any] | None]] = []
        self._arrived = asyncio.Event()
        self.closed = False

    async def run(self) -> None:
        try:
            async for message in self.connection:
                at = now()
                if isinstance(message, bytes):
                    self.log.append((at, "audio", None))
                else:
                    body = json.loads(message)
                    self.log.append((at, body["type"], body))
                self._arrived.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._arrived.set()

    def times(self, kind: str, after: float = 0.0, **data: Any) -> list[float]:
        """Arrival times of messages of `kind` after `after` whose data contain `data`."""
        return [
            at
            for at, seen, body in self.log
            if seen == kind
            and at >= after
            and (not data or all((body or {}).get("data", {}).get(k) == v for k, v in data.items()))
        ]

    def first(self, kind: str, after: float = 0.0, **data: Any) -> float | None:
        found = self.times(kind, after, **data)
        return found[0] if found else None

    async def wait(
        self, kind: str, *, after: float = 0.0, count: int = 1, timeout_secs: float = 30.0, **data: Any
    ) -> float:
        """Wait until `count` messages of `kind` arrived after `after`; the arrival time of the last one."""
        async with asyncio.timeout(timeout_secs):
            while True:
                found = self.times(kind, after, **data)
                if len(found) >= count:
                    return found[count - 1]
                if self.closed:
                    raise ConnectionError(f"connection closed while waiting for {kind}")
                self._arrived.clear()
                await self._arrived.wait()


@dataclass
class Utterance:
    """Frames queued on a microphone; `sent_at[i]` is when frame i left."""

    clip: Clip
    sent_at: list[float] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def time_of(self, position_ms: float) -> float:
        """When the frame holding the sample at `position_ms` was sent."""
        return self.sent_at[min(int(position_ms // FRAME_MS), len(self.sent_at) - 1)]

    @property
    def onset_sent(self) -> float:
        return self.time_of(self.clip.onset_ms)

    @property
    def end_sent(self) -> float:
        return self.time_of(max(self.clip.end_ms - 1, 0))


class Microphone:
    """Sends a 20 ms frame every 20 ms, as a microphone would: queued speech, else silence.

    `slip` is how far behind its schedule the sender fell (a server that stops reading pushes back here).
    """

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self._queue: deque[tuple[Utterance, int, bytes]] = deque()
        self.slips: list[float] = []
        self.frames_sent = 0

    def say(self, clip: Clip) -> Utterance:
        utterance = Utterance(clip)
        self._queue.extend((utterance, index, frame) for index, frame in enumerate(clip.frames))
        return utterance

    async def run(self, started: float | None = None) -> None:
        start = now() if started is None else started
        index = 0
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                due = start + index * FRAME_MS / 1000
                delay = due - now()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self._queue:
                    utterance, position, frame = self._queue.popleft()
                else:
                    utterance, position, frame = None, 0, SILENCE_FRAME
                sent = now()
                self.slips.append(sent - due)
                await self.connection.send(frame)
                self.frames_sent += 1
                if utterance is not None:
                    utterance.sent_at.append(sent)
                    utterance.started.set()
                    if position == len(utterance.clip.frames) - 1:
                        utterance.done.set()
                index += 1


@asynccontextmanager
async def session(
    base_url: str, query: str = "", path: str = "/ws", open_timeout: float = 60.0
) -> AsyncIterator[tuple[websockets.ClientConnection, Receiver]]:
    """A WebSocket conversation with its receiver running; ready once `session_started` came."""
    async with websockets.connect(
        ws_url(base_url, query, path), max_queue=None, open_timeout=open_timeout, ping_interval=None
    ) as connection:
        receiver = Receiver(connection)
        task = asyncio.create_task(receiver.run())
        try:
            await receiver.wait("session_started", timeout_secs=open_timeout)
            yield connection, receiver
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def send_event(connection: websockets.ClientConnection, kind: str, **data: Any) -> float:
    """Send a JSON client message; returns when it left."""
    sent = now()
    await connection.send(json.dumps({"type": kind, "data": data}))
    return sent


def ws_url(base_url: str, query: str = "", path: str = "/ws") -> str:
    return base_url.replace("http", "ws", 1) + path + (f"?{query}" if query else "")
