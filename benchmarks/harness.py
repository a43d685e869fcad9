"""What the conversation-server benchmarks share: the server on loopback, timed engines, figures.

Not a benchmark itself: `latency.py` and `concurrency.py` import it (and `client.py`, the WebSocket side).
Every time is `time.monotonic()`, on Linux one clock for all processes, so a server in a child process and
its client can be compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import uvicorn

from voxhub.api.logging import configure_logging
from voxhub.config import Settings, load_settings
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app, server_options

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
            backlog=4096,
            **server_options(settings),
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


# -- the server, in a child process -----------------------------------------------------------------


def _server_main(overrides: dict[str, Any], config: Path | None, port: int, pipe: Connection) -> None:
    if overrides.pop("trace_allocations", False):
        import tracemalloc

        tracemalloc.start(8)
    asyncio.run(_serve(overrides, config, port, pipe))


async def _serve(overrides: dict[str, Any], config: Path | None, port: int, pipe: Connection) -> None:
    settings = bench_settings(Path(overrides.pop("data_dir")), config, **overrides)
    pool = await EnginePool.load(settings)
    clock = EngineClock()
    clock.install(pool)
    server = uvicorn_server(settings, pool, port)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    pipe.send("ready")
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, pipe.recv)) != "stop":
        if command == "gc":
            gc.collect()
            pipe.send("ok")
        elif command == "calls":
            pipe.send(clock.snapshot())
        elif command == "allocations":  # what grew since the last ask (needs tracemalloc, churn.py --trace)
            pipe.send(_allocation_growth())
    server.should_exit = True
    await serving
    await pool.aclose()
    pipe.send("stopped")


_last_snapshot: Any = None


def _allocation_growth(top: int = 15) -> list[str]:
    """The lines whose live allocations grew most since the previous call (tracemalloc must be on)."""
    import tracemalloc

    global _last_snapshot
    if not tracemalloc.is_tracing():
        return []
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    previous, _last_snapshot = _last_snapshot, snapshot
    if previous is None:
        return []
    return [str(stat) for stat in snapshot.compare_to(previous, "lineno")[:top]]


class ServerProcess:
    """The server child: its URL, its memory, and a pipe to ask it for its engine timings."""

    def __init__(self, data_dir: Path, config: Path | None, overrides: dict[str, Any]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._pipe, child_end = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(
            target=_server_main,
            args=({**overrides, "data_dir": str(data_dir)}, config, self.port, child_end),
            daemon=True,
        )

    async def __aenter__(self) -> ServerProcess:
        self.process.start()
        if await self._ask(None) != "ready":
            raise RuntimeError("the server did not start")
        self._ps = psutil.Process(self.process.pid)
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ask("stop"), 30)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()

    async def _ask(self, command: str | None) -> Any:
        loop = asyncio.get_running_loop()
        if command is not None:
            self._pipe.send(command)
        return await loop.run_in_executor(None, self._pipe.recv)

    async def rss_bytes(self) -> int:
        """Resident memory after a garbage collection and a moment to settle."""
        await self._ask("gc")
        await asyncio.sleep(0.5)
        return int(self._ps.memory_info().rss)

    def cpu_secs(self) -> float:
        times = self._ps.cpu_times()
        return float(times.user + times.system)

    async def allocation_growth(self) -> list[str]:
        return list(await self._ask("allocations"))

    def open_files(self) -> int:
        return int(self._ps.num_fds())

    async def engine_calls(self) -> list[dict[str, Any]]:
        return list(await self._ask("calls"))


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
        self,
        stage: str,
        original: Callable[..., Any],
        describe: Callable[[tuple[Any, ...], dict[str, Any]], str],
    ) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            async def stream() -> AsyncIterator[Any]:
                call = EngineCall(stage, now(), text=describe(args, kwargs))
                self.calls.append(call)
                inner = original(*args, **kwargs)
                try:
                    async for item in inner:
                        text: str = getattr(item, "text", "")
                        if stage != "llm" or text:  # an LLM chunk may carry only a tool call
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


def table(headers: str | Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; `headers` may be one string of names separated by "|"."""
    names = headers.split("|") if isinstance(headers, str) else list(headers)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
