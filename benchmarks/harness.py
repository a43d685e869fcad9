"""What the conversation-server benchmarks share: a server on loopback, a timing client, test speech, figures.

Not a benchmark itself: `latency.py` and `concurrency.py` import it. Every time is `time.monotonic()`, which
on Linux is one clock for all processes, so a server in a child process and its client can be compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
import websockets

from voxhub.api.app import create_app
from voxhub.api.logging import configure_logging
from voxhub.audio import PcmAudio, resample
from voxhub.config import Settings, load_settings
from voxhub.engines.pool import EnginePool
from voxhub.engines.tts.base import TtsEngine, synthesize_all

RATE_HZ = 16000
FRAME_MS = 20
FRAME_BYTES = RATE_HZ * FRAME_MS // 1000 * 2  # 640
SILENCE_FRAME = bytes(FRAME_BYTES)
now = time.monotonic


# -- figures ----------------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation); NaN when there are no values."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


def ms(seconds: float) -> str:
    return "–" if seconds != seconds else f"{1000 * seconds:.0f}"  # NaN shows as a dash


# -- server -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bench_settings(data_dir: Path, config: Path | None = None, **overrides: Any) -> Settings:
    """The configured settings with a fresh data directory, the installed models, and quiet logs."""
    models_dir = load_settings(config).models_root
    overrides.setdefault("log_level", "WARNING")
    return load_settings(config, data_dir=data_dir, models_dir=models_dir, **overrides)


def uvicorn_server(settings: Settings, engines: EnginePool | None, port: int) -> uvicorn.Server:
    """The app configured as `voxhub serve` runs it, on 127.0.0.1:`port`."""
    configure_logging(settings)
    return uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engines=engines),
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_config=None,
            access_log=False,
            ws_ping_interval=settings.ws_ping_interval_secs,
            ws_ping_timeout=settings.connection_timeout_secs,
            ws_max_size=4 * settings.max_ws_message_bytes,
            backlog=4096,
        )
    )


@asynccontextmanager
async def serve_in_process(settings: Settings, engines: EnginePool) -> AsyncIterator[str]:
    """Serve in this event loop on a free loopback port; yields the base URL."""
    port = free_port()
    server = uvicorn_server(settings, engines, port)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def ws_url(base_url: str, query: str = "", path: str = "/ws") -> str:
    return base_url.replace("http", "ws", 1) + path + (f"?{query}" if query else "")


# -- engine timing ----------------------------------------------------------------------------------


@dataclass
class EngineCall:
    """One call into an engine: when it started, when its outputs came, when it ended."""

    stage: str
    start: float
    end: float = float("nan")
    outputs: list[float] = field(default_factory=list)  # LLM tokens, TTS chunks
    text: str = ""  # LLM: the last user message; TTS: the sentence
    cancelled: bool = False


class EngineClock:
    """Records every STT, LLM and TTS call of a pool's engines, by wrapping the live engine objects.

    The engines still do all their work; the wrapper only reads the clock around it. Installed on a pool
    after the benchmark has made its own test speech, so only the server's calls are recorded.
    """

    def __init__(self) -> None:
        self.calls: list[EngineCall] = []

    def install(self, pool: EnginePool) -> None:
        for stage, _name, engine in pool.items():
            if stage == "stt":
                engine.transcribe = self._timed_coroutine("stt", engine.transcribe)
            elif stage == "llm":
                engine.chat = self._timed_stream("llm", engine.chat, _last_user_text)
            elif stage == "tts":
                engine.synthesize = self._timed_stream("tts", engine.synthesize, lambda a, _k: str(a[0]))

    def between(self, stage: str, start: float, end: float) -> list[EngineCall]:
        return [call for call in self.calls if call.stage == stage and start <= call.start <= end]

    def _timed_coroutine(self, stage: str, original: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            call = EngineCall(stage, now())
            self.calls.append(call)
            try:
                return await original(*args, **kwargs)
            except asyncio.CancelledError:
                call.cancelled = True
                raise
            finally:
                call.end = now()

        return timed

    def _timed_stream(
        self, stage: str, original: Callable[..., Any], describe: Callable[[tuple[Any, ...], dict[str, Any]], str]
    ) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            async def stream() -> AsyncIterator[Any]:
                call = EngineCall(stage, now(), text=describe(args, kwargs))
                self.calls.append(call)
                inner = original(*args, **kwargs)
                try:
                    async for item in inner:
                        if stage != "llm" or getattr(item, "text", ""):
                            call.outputs.append(now())
                        yield item
                except (asyncio.CancelledError, GeneratorExit):
                    call.cancelled = True
                    raise
                finally:
                    call.end = now()
                    if hasattr(inner, "aclose"):
                        with contextlib.suppress(Exception):
                            await inner.aclose()

            return stream()

        return timed

    def snapshot(self) -> list[dict[str, Any]]:
        return [call.__dict__ for call in self.calls]


def _last_user_text(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    messages = args[0] if args else kwargs.get("messages", [])
    users = [message.content for message in messages if message.role == "user"]
    return users[-1] if users else ""


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


def speech_bounds_ms(audio: PcmAudio, window_ms: float = 10.0, floor_db: float = -35.0) -> tuple[float, float]:
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

    async def wait(self, kind: str, *, after: float = 0.0, count: int = 1, timeout: float = 30.0, **data: Any) -> float:
        """Wait until `count` messages of `kind` arrived after `after`; the arrival time of the last one."""
        async with asyncio.timeout(timeout):
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
            await receiver.wait("session_started", timeout=open_timeout)
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


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
