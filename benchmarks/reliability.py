"""The reliability figures of docs/reliability.md, from one run: fuzz, overload, idle clients, `kill -9`.

    PYTHONPATH=src .venv/bin/python benchmarks/reliability.py {ws-fuzz,wyoming-fuzz,overload,idle,kill9,all}
                                                              [--quick] [--config voxhub.yaml]

Each phase starts its own server child (harness.ServerProcess: all engines loaded, a fresh data directory)
and prints a markdown table; every wait is bounded (`REPLY_SECS`), so a phase that meets a hung server
reports it instead of hanging too. `--quick` runs a short version of each (a minute or two in all).

- ws-fuzz: on every WebSocket route, sockets × messages of six kinds of malformed message (bad JSON, wrong
  types, unknown type, nesting 5,000 deep, oversize, binary junk); each must be answered by an error event,
  no socket may end without a close frame, and healthy turns beside them must complete.
- wyoming-fuzz: the same kinds as Wyoming frames, raw or through the `wyoming` client, one connection each,
  while a healthy `synthesize` runs beside them.
- overload: 4× `max_connections` WebSockets at once: accepted, refused with 1013, hung; the time to refuse;
  the active count once they are gone.
- idle: 25 idle Wyoming connections, 100 half-sent HTTP requests and idle WebSockets (fewer than the cap)
  held open, then a fresh `/health` and text turn timed against the same before; then the cap filled with
  idle WebSockets, and how long until the idle timeout lets a new one in.
- kill9: text turns acknowledged (`response` received) in one session, SIGKILL, a restart on the same data
  directory, and how many of them its history still has.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from wyoming.event import async_read_event, async_write_event
from wyoming.ping import Ping

from harness import ServerProcess, free_port, pct, table
from reliability_clients import (
    REPLY_SECS,
    ROUTES,
    TEXT_ONLY,
    FuzzTally,
    WyomingTally,
    fuzz_socket,
    native_turn,
    opened,
    realtime_turn,
    source,
    until,
    wyoming_bad_frame,
    wyoming_frames,
    wyoming_synthesis,
)

QUIET: dict[str, Any] = {"llm_max_tokens": 8, "client_turns_per_minute": 0, "wyoming_enabled": False}
LIMIT_BYTES = 64 * 1024  # max_ws_message_bytes in the fuzz: oversize messages stay cheap to send


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def secs(values: list[float]) -> str:
    return f"{pct(values, 50):.2f} / {pct(values, 95):.2f}" if values else "–"


async def beside(work: Awaitable[Any], turn: Callable[[], Awaitable[float]]) -> tuple[list[float], int]:
    """Run healthy turns one after another while `work` runs; their times and how many failed."""
    task = asyncio.ensure_future(work)
    times: list[float] = []
    failed = 0
    while not task.done() or (not times and not failed):
        try:
            times.append(await turn())
        except Exception:
            failed += 1
    await task
    return times, failed


# -- phases ---------------------------------------------------------------------------------------------


async def ws_fuzz(args: argparse.Namespace, data: Path) -> None:
    sockets, rounds = (5, 2) if args.quick else (50, 34)  # 34 rounds of six: 204 messages per socket
    side_sockets, side_rounds = (2, 1) if args.quick else (10, 10)
    overrides = {
        **QUIET,
        "max_connections": sockets + 5,
        "control_messages_per_sec": 10_000.0,  # the fuzz measures validation, not the rate limit
        "max_ws_message_bytes": LIMIT_BYTES,
    }
    rows = []
    async with ServerProcess(data, args.config, overrides) as server:
        ws = server.url.replace("http", "ws", 1)
        async with httpx.AsyncClient(base_url=server.url, timeout=REPLY_SECS) as http:
            for route in ROUTES:
                main = route.path in ("/ws", "/v1/realtime")
                count, per = (sockets, rounds) if main else (side_sockets, side_rounds)
                urls = []
                for _ in range(count):
                    path = route.path
                    if "{session}" in path:
                        created = (await http.post("/api/v1/sessions", json={})).json()
                        path = path.format(session=created["session_id"])
                    urls.append(f"{ws}{path}?{TEXT_ONLY}")
                tally = FuzzTally()
                burst = asyncio.gather(*(fuzz_socket(url, route, per, LIMIT_BYTES, tally) for url in urls))
                turn = (lambda: realtime_turn(server.url)) if route.path == "/v1/realtime" else None
                times, failed = await beside(burst, turn or (lambda: native_turn(server.url)))
                missed = ", ".join(f"{kind} {n}" for kind, n in tally.unanswered.items()) or "0"
                rows.append(
                    [
                        route.path,
                        f"{count} × {per * 6}",
                        f"{tally.answered}/{tally.sent}",
                        missed,
                        f"{tally.alive}/{count}",
                        tally.dropped,
                        f"{len(times)} ok, {failed} failed",
                        secs(times),
                    ]
                )
                print(" | ".join(map(str, rows[-1])), flush=True)
    print(f"\n### WebSocket fuzz ({load()})\n")
    headers = "route|sockets × messages|answered by an error|unanswered|alive after|dropped without close"
    print(table(headers + "|healthy turns beside|turn p50 / p95 s", rows))


async def wyoming_fuzz(args: argparse.Namespace, data: Path) -> None:
    rounds = 3 if args.quick else 50
    port = free_port()
    overrides = {**QUIET, "wyoming_enabled": True, "wyoming_host": "127.0.0.1", "wyoming_port": port}
    overrides["wyoming_max_connections_per_client"] = 64
    tallies = {kind: WyomingTally() for kind, _ in wyoming_frames()}
    async with ServerProcess(data, args.config, overrides) as server:
        del server

        async def burst() -> None:
            for _ in range(rounds):
                await asyncio.gather(
                    *(wyoming_bad_frame(port, kind, frame, tallies[kind]) for kind, frame in wyoming_frames())
                )

        times, failed = await beside(burst(), lambda: wyoming_synthesis(port))
    rows = [[kind, f"{t.answered}/{t.sent}", t.kept, t.closed, t.dropped] for kind, t in tallies.items()]
    print(f"\n### Wyoming fuzz ({load()})\n")
    print(table("bad frame|answered by `error`|connection kept|closed after the error|dropped", rows))
    print(f"\nhealthy `synthesize` beside them: {len(times)} ok, {failed} failed, p50 / p95 {secs(times)} s")


async def attempt(url: str, index: int, hold: asyncio.Event, started: float) -> tuple[str, float]:
    """One WebSocket attempt: ("accepted" | "refused 1013" | other, seconds to the verdict)."""
    try:
        async with asyncio.timeout(REPLY_SECS):
            async with websockets.connect(url, ping_interval=None, local_addr=source(index)) as socket:
                await until(socket, "session_started")
                verdict = time.monotonic() - started
                await hold.wait()
                return "accepted", verdict
    except websockets.ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
        return ("refused 1013" if code == 1013 else f"closed {code}"), time.monotonic() - started
    except TimeoutError:
        return "hung", time.monotonic() - started
    except (OSError, websockets.InvalidHandshake) as exc:
        return type(exc).__name__, time.monotonic() - started


async def active_after(http: httpx.AsyncClient, wait_secs: float = 10.0) -> int:
    """Active connections once they should all be gone (polled until 0 or `wait_secs`)."""
    deadline = time.monotonic() + wait_secs
    while True:
        active = int((await http.get("/health")).json()["server_info"]["active_connections"])
        if active == 0 or time.monotonic() > deadline:
            return active
        await asyncio.sleep(0.1)


async def overload(args: argparse.Namespace, data: Path) -> None:
    cap, rounds = 25, 1 if args.quick else 3
    rows = []
    async with ServerProcess(data, args.config, {**QUIET, "max_connections": cap}) as server:
        url = server.url.replace("http", "ws", 1) + f"/ws?{TEXT_ONLY}"
        async with httpx.AsyncClient(base_url=server.url, timeout=REPLY_SECS) as http:
            for round_ in range(1, rounds + 1):
                hold = asyncio.Event()
                started = time.monotonic()
                tasks = [asyncio.create_task(attempt(url, i, hold, started)) for i in range(4 * cap)]
                for settled, done in enumerate(asyncio.as_completed(tasks, timeout=REPLY_SECS), 1):
                    with contextlib.suppress(TimeoutError):
                        await done
                    if settled == 3 * cap:  # the refusals are in; the rest are held open, or hung
                        break
                await asyncio.sleep(1.0)  # anything still pending now is either held open or hung
                hold.set()
                results = await asyncio.gather(*tasks)
                verdicts = [verdict for verdict, _ in results]
                refused = [at for verdict, at in results if verdict == "refused 1013"]
                other = sorted({v for v in verdicts if v not in ("accepted", "refused 1013", "hung")})
                rows.append(
                    [
                        round_,
                        4 * cap,
                        verdicts.count("accepted"),
                        len(refused),
                        verdicts.count("hung"),
                        ", ".join(other) or "–",
                        f"{pct(refused, 50):.2f} / {max(refused, default=float('nan')):.2f}",
                        await active_after(http),
                    ]
                )
    print(f"\n### Overload: {4 * cap} WebSockets at once against max_connections={cap} ({load()})\n")
    headers = "round|attempts|accepted|refused 1013|hung|other|time to refuse p50 / max s|active after"
    print(table(headers, rows))


async def timed_health(url: str, count: int) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=url, timeout=REPLY_SECS) as http:
        for _ in range(count):
            started = time.monotonic()
            assert (await http.get("/health")).status_code == 200
            times.append(time.monotonic() - started)
    return times


async def idle(args: argparse.Namespace, data: Path) -> None:
    cap, idle_ws, half_sent, wyoming_idle = 25, 20, 100, 25
    timeout_secs = 5.0 if args.quick else 20.0
    turns = 2 if args.quick else 5
    port = free_port()
    overrides = {
        **QUIET,
        "max_connections": cap,
        "connection_timeout_secs": timeout_secs,
        "wyoming_enabled": True,
        "wyoming_host": "127.0.0.1",
        "wyoming_port": port,
    }
    async with ServerProcess(data, args.config, overrides) as server, contextlib.AsyncExitStack() as stack:
        host, http_port = "127.0.0.1", server.port
        before_health = await timed_health(server.url, 20)
        before_turns = [await native_turn(server.url) for _ in range(turns)]
        wyoming = []
        for i in range(wyoming_idle):  # each says `ping` once, so the server surely has it, then nothing
            reader, writer = await asyncio.open_connection(host, port, local_addr=source(i))
            await async_write_event(Ping().event(), writer)
            pong = await async_read_event(reader)
            assert pong is not None
            assert pong.type == "pong"
            wyoming.append((reader, writer))
        slow = []
        for i in range(half_sent):  # headers that never finish, from 100 addresses: no per-address cap helps
            reader, writer = await asyncio.open_connection(host, http_port, local_addr=source(100 + i))
            writer.write(b"GET /health HTTP/1.1\r\nHost: voxhub\r\nX-Slow: a")
            slow.append((reader, writer))
        ws_url = server.url.replace("http", "ws", 1) + f"/ws?{TEXT_ONLY}"
        for i in range(idle_ws):
            socket = await stack.enter_async_context(
                websockets.connect(ws_url, ping_interval=None, local_addr=source(300 + i))
            )
            await until(socket, "session_started")
        held_at = time.monotonic()
        during_health = await timed_health(server.url, 20)
        during_turns = [await native_turn(server.url) for _ in range(turns)]
        # Fill the cap with idle sockets: a newcomer is refused until the idle timeout closes them.
        for i in range(cap - idle_ws):
            socket = await stack.enter_async_context(
                websockets.connect(ws_url, ping_interval=None, local_addr=source(400 + i))
            )
            await until(socket, "session_started")
        filled_at, refusals = time.monotonic(), 0
        while time.monotonic() - filled_at < timeout_secs + REPLY_SECS:
            try:
                await native_turn(server.url)
                break
            except websockets.ConnectionClosed:
                refusals += 1
                await asyncio.sleep(0.25)
        let_in_secs = time.monotonic() - filled_at
        answered_408 = 0
        for reader, writer in slow:
            with contextlib.suppress(TimeoutError, OSError):
                head = await asyncio.wait_for(
                    reader.read(64), timeout=max(1.0, held_at + 15 - time.monotonic())
                )
                answered_408 += head.startswith(b"HTTP/1.1 408")
            writer.close()
        wyoming_open = 0
        for reader, writer in wyoming:
            wyoming_open += not reader.at_eof()
            writer.close()
    print(f"\n### Idle and slow clients ({load()})\n")
    rows = [
        ["fresh `/health` p50 / p95 s", secs(before_health), secs(during_health)],
        ["fresh text turn p50 / p95 s", secs(before_turns), secs(during_turns)],
    ]
    print(
        f"held: {wyoming_idle} idle Wyoming connections, {half_sent} half-sent HTTP requests, "
        f"{idle_ws} idle WebSockets (max_connections={cap})\n"
    )
    print(table("|before|while held", rows))
    print(
        f"\nhalf-sent requests answered 408 within 15 s: {answered_408}/{half_sent}; "
        f"idle Wyoming connections still open (they hold no slot): {wyoming_open}/{wyoming_idle}"
    )
    print(
        f"cap filled with idle WebSockets: a newcomer was refused {refusals} times and got in after "
        f"{let_in_secs:.1f} s (connection_timeout_secs={timeout_secs:g})"
    )


async def kill9(args: argparse.Namespace, data: Path) -> None:
    turns = 5 if args.quick else 20
    session_id = f"kill9-{uuid.uuid4().hex[:8]}"
    texts = [f"Remember the number {n}." for n in range(turns)]
    async with ServerProcess(data, args.config, QUIET) as server:
        acknowledged = 0
        ws = server.url.replace("http", "ws", 1)
        async with websockets.connect(f"{ws}/ws?{TEXT_ONLY}&session_id={session_id}") as socket:
            await opened(socket)  # the greeting's `response` is not one of the turns
            for text in texts:
                await socket.send(json.dumps({"type": "text_message", "data": {"text": text}}))
                await until(socket, "response")
                acknowledged += 1
            server.process.kill()  # SIGKILL the moment the last answer arrived: no shutdown runs
            server.process.join(30)
    async with (
        ServerProcess(data, args.config, QUIET) as again,
        httpx.AsyncClient(base_url=again.url, timeout=REPLY_SECS) as http,
    ):
        history = (await http.get(f"/api/v1/sessions/{session_id}/history")).json()
    said = [message["content"] for message in history["messages"] if message["role"] == "user"]
    kept = sum(text in said for text in texts)
    answers = sum(message["role"] == "assistant" for message in history["messages"])
    print(f"\n### kill -9 durability ({load()})\n")
    print(
        table(
            "acknowledged turns|their questions in history after restart|assistant messages in history",
            [[acknowledged, f"{kept}/{acknowledged}", answers]],
        )
    )


PHASES = {
    "ws-fuzz": ws_fuzz,
    "wyoming-fuzz": wyoming_fuzz,
    "overload": overload,
    "idle": idle,
    "kill9": kill9,
}


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("phase", choices=[*PHASES, "all"])
    parser.add_argument("--quick", action="store_true", help="a short run of each phase")
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    print(f"start: {load()}", flush=True)
    started = time.monotonic()
    for name, phase in PHASES.items():
        if args.phase in (name, "all"):
            with tempfile.TemporaryDirectory(prefix=f"voxhub-{name}-") as tmp:
                await phase(args, Path(tmp))
    print(f"\nall in {time.monotonic() - started:.0f} s; end: {load()}")


if __name__ == "__main__":
    asyncio.run(main())
