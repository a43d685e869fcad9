"""Many sessions at once: memory per idle session, text turns under load, and how many live voice streams keep up.

    .venv/bin/python benchmarks/concurrency.py [--sessions 1000] [--idle-connections 1000] [--active-text 50]
        [--listening 50,100] [--talking 10,25,100] [--voice-output 10] [--seconds 15] [--set vad_engine=webrtc]

The server runs in a child process (its own event loop and memory, so the client's work and allocations are
not counted as the server's), on a free loopback port with a temporary data directory and `max_connections`
raised. This process is the client:

1. **Idle sessions.** Creates `--sessions` sessions with `POST /api/v1/sessions`; the server's RSS growth
   (after a garbage collection) ÷ sessions is the memory of an idle session.
2. **Idle text connections.** Opens `--idle-connections` text-only WebSockets on those sessions
   (`voice_input=false&voice_output=false`): RSS growth ÷ connections, and the time to open them.
3. **Text turns.** `--active-text` of those connections each send `--turns` questions, all at once. Turn
   overhead = (text sent → first `response_delta`) − the LLM's own time to first token, timed inside the
   server's engine (queueing for an LLM slot counts as LLM time); p50/p99.
4. **Live voice streams.** Each row opens that many WebSockets that stream 20 ms frames in real time.
   "One talking": one stream says a question every 2.5 s, the others stream silence (the cost of listening).
   "All talking": every stream says a question every `--cycle` s, staggered (the cost of conversing).
   Frame lag = how much later `speech_started` arrives than for one stream alone, p50/p99 over utterances;
   also end of speech → final transcript and → first response text, utterances never transcribed, the
   client's own send slip, and the server's CPU. A row keeps up when its p99 frame lag is ≤ 100 ms and
   every utterance was transcribed. Voice output is off (LLM answers still run) except for the counts in
   `--voice-output`.

Writes `docs/img/concurrency.png` (`--plot`): frame lag and time to the final transcript against streams.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from client import Clip, Microphone, Receiver, Utterance, send_event, session, speech_clip
from harness import ServerProcess, bench_settings, ms, now, pct, table
from plot import against_streams
from voxhub.engines.loader import load_engine

UTTERANCES = (
    "What time is it in Tokyo?",
    "Turn on the kitchen lights, please.",
    "How far away is the moon?",
    "Play some relaxing music.",
)
TEXT_ONLY = "voice_input=false&voice_output=false"
KEEPS_UP_LAG_SECS = 0.1
OPENING_CONCURRENCY = 16
PROBE_CYCLE_SECS = 2.5  # listening load: how often the one speaking stream speaks
DRAIN_SECS = 15.0  # after a run, how long the last utterances may take to be transcribed


# -- phases -----------------------------------------------------------------------------------------


async def bounded(jobs: list[Any], limit: int = OPENING_CONCURRENCY) -> list[Any]:
    """Await coroutines at most `limit` at a time, in order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def create_sessions(server: ServerProcess, count: int) -> tuple[list[str], float]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

        async def create() -> str:
            response = await http.post("/api/v1/sessions", json={})
            response.raise_for_status()
            return str(response.json()["id"])

        started = time.perf_counter()
        ids = await bounded([create() for _ in range(count)])
        return ids, time.perf_counter() - started


@dataclass
class TextTurn:
    text: str
    sent: float
    first_delta: float | None = None
    done: float | None = None
    llm_first_token: float = float("nan")

    @property
    def to_first_delta(self) -> float:
        return float("nan") if self.first_delta is None else self.first_delta - self.sent

    @property
    def overhead(self) -> float:
        return self.to_first_delta - self.llm_first_token


async def text_turns(connection: Any, receiver: Receiver, stream: int, turns: int) -> list[TextTurn]:
    done = []
    for number in range(turns):
        text = f"Question {stream}.{number}: what is {stream % 10} plus {number + 1}?"
        turn = TextTurn(text, await send_event(connection, "text_message", text=text))
        turn.done = await receiver.wait("response", after=turn.sent, timeout_secs=120)
        turn.first_delta = receiver.first("response_delta", turn.sent)
        done.append(turn)
    return done


@dataclass
class StreamLevel:
    streams: int
    talking: bool  # every stream speaks; else only the first, the rest stream silence
    voice_output: bool
    detections: list[float] = field(default_factory=list)  # onset sent → speech_started
    to_final: list[float] = field(default_factory=list)  # end of speech sent → final transcript
    to_response: list[float] = field(default_factory=list)  # end of speech sent → first response_delta
    utterances: int = 0
    missed: int = 0
    max_slip: float = 0.0
    server_cpu: float = 0.0  # cores busy on average
    frame_lag_p50: float = float("nan")
    frame_lag_p99: float = float("nan")

    def keeps_up(self) -> bool:
        return self.frame_lag_p99 <= KEEPS_UP_LAG_SECS and self.missed == 0


async def voice_streams(
    server: ServerProcess,
    clips: list[Clip],
    count: int,
    seconds: float,
    cycle: float,
    *,
    talking: bool,
    voice_output: bool = False,
) -> StreamLevel:
    level = StreamLevel(count, talking, voice_output)
    query = f"voice_output={'true' if voice_output else 'false'}"
    async with contextlib.AsyncExitStack() as stack:
        opened = await bounded([stack.enter_async_context(session(server.url, query)) for _ in range(count)])
        start = now() + 0.5
        microphones = [Microphone(connection) for connection, _ in opened]
        senders = [asyncio.create_task(mic.run(start)) for mic in microphones]
        spoken: list[tuple[Receiver, Utterance]] = []
        speaking = range(count) if talking else range(1)

        async def speak(index: int, microphone: Microphone, receiver: Receiver) -> None:
            # Staggered: stream i first speaks i/count of a cycle in, then once per cycle.
            at = start + 0.5 + cycle * index / len(speaking)
            clip_index = index
            while at + clips[clip_index % len(clips)].audio.duration_secs <= start + seconds:
                await asyncio.sleep(max(0.0, at - now()))
                spoken.append((receiver, microphone.say(clips[clip_index % len(clips)])))
                clip_index += 1
                at += cycle

        cpu_before = server.cpu_secs()
        speakers = [asyncio.create_task(speak(i, microphones[i], opened[i][1])) for i in speaking]
        await asyncio.gather(*speakers)
        await asyncio.sleep(max(0.0, start + seconds - now()))
        level.server_cpu = (server.cpu_secs() - cpu_before) / (now() - start)
        # Let the server finish the last utterances (but the microphones go on: a silent stream still talks).
        deadline = now() + DRAIN_SECS
        for receiver, utterance in spoken:
            with contextlib.suppress(TimeoutError):
                await utterance.done.wait()
                await receiver.wait(
                    "transcript",
                    after=utterance.end_sent,
                    is_final=True,
                    timeout_secs=max(0.01, deadline - now()),
                )
        for sender in senders:
            sender.cancel()
        level.max_slip = max(max(mic.slips) for mic in microphones)
    for receiver, utterance in spoken:
        level.utterances += 1
        started = receiver.first("speech_started", utterance.onset_sent - 0.05)
        final = receiver.first("transcript", utterance.end_sent, is_final=True)
        if started is None or final is None:
            level.missed += 1
            continue
        level.detections.append(started - utterance.onset_sent)
        level.to_final.append(final - utterance.end_sent)
        answer = receiver.first("response_delta", final)
        if answer is not None:
            level.to_response.append(answer - utterance.end_sent)
    return level


# -- report ---------------------------------------------------------------------------------------


def kb(value: float) -> str:
    return f"{value / 1024:.1f}"


def attribute_llm(turns: list[TextTurn], calls: list[dict[str, Any]]) -> None:
    by_text = {call["text"]: call for call in calls if call["stage"] == "llm" and call["outputs"]}
    for turn in turns:
        call = by_text.get(turn.text)
        if call is not None:
            turn.llm_first_token = call["outputs"][0] - call["start"]


def workload(level: StreamLevel) -> str:
    kind = "all talking" if level.talking else "one talking"
    return kind + (", voice out" if level.voice_output else "")


def plot(levels: list[StreamLevel], path: Path) -> None:
    alone = [lv for lv in levels if lv.streams == 1]
    series = {
        kind: [
            (lv.streams, lv.frame_lag_p99, pct(lv.to_final, 50))
            for lv in sorted(alone + [lv for lv in levels if workload(lv) == kind], key=lambda lv: lv.streams)
        ]
        for kind in sorted({workload(lv) for lv in levels if lv.streams > 1})
    }
    title = "Live voice streams on one server, 2 cores, embedded engines"
    against_streams(series, KEEPS_UP_LAG_SECS, title, path)


def counts(text: str) -> list[int]:
    return sorted({int(part) for part in text.split(",") if part.strip()})


async def main(args: argparse.Namespace) -> None:
    listening, talking, voiced = counts(args.listening), counts(args.talking), counts(args.voice_output)
    most = max([1, *listening, *talking, *voiced])
    with tempfile.TemporaryDirectory(prefix="voxhub-bench-") as tmp:
        settings = bench_settings(Path(tmp) / "client")
        speaker = await load_engine("tts", "hibari", settings)
        clips = [await speech_clip(speaker, text) for text in UTTERANCES]
        await speaker.aclose()
        overrides: dict[str, Any] = {"max_connections": args.idle_connections + most + 100}
        for pair in args.set:
            key, _, value = pair.partition("=")
            overrides[key] = value
        async with ServerProcess(Path(tmp) / "data", args.config, overrides) as server:
            memory, turns = await sessions_and_text(server, args)
            run = functools.partial(voice_streams, server, clips, seconds=args.seconds)
            levels = [await run(1, cycle=PROBE_CYCLE_SECS, talking=False)]
            for count in listening:
                levels.append(await run(count, cycle=PROBE_CYCLE_SECS, talking=False))
                print(f"  {count} streams, one talking: done")
            for count in talking:
                levels.append(await run(count, cycle=args.cycle, talking=True))
                print(f"  {count} streams, all talking: done")
            for count in voiced:
                levels.append(await run(count, cycle=args.cycle, talking=True, voice_output=True))
                print(f"  {count} streams, all talking, voice output on: done")
    baseline = pct(levels[0].detections, 50)
    for level in levels:
        level.frame_lag_p50 = pct(level.detections, 50) - baseline
        level.frame_lag_p99 = pct(level.detections, 99) - baseline
    report(args, memory, turns, levels, baseline)
    if args.plot:
        plot(levels, Path(args.plot))


@dataclass
class Memory:
    per_session: float
    per_connection: float
    create_secs: float
    open_secs: float


async def sessions_and_text(server: ServerProcess, args: argparse.Namespace) -> tuple[Memory, list[TextTurn]]:
    """Phases 1 to 3: idle sessions, idle text connections, text turns on some of them."""
    rss_start = await server.rss_bytes()
    print(f"server pid {server.process.pid}, RSS {rss_start / 2**20:.0f} MiB with its engines loaded")
    ids, create_secs = await create_sessions(server, args.sessions)
    rss_sessions = await server.rss_bytes()
    idle = min(args.idle_connections, len(ids))
    async with contextlib.AsyncExitStack() as stack:
        started = time.perf_counter()
        opened = await bounded(
            [
                stack.enter_async_context(session(server.url, TEXT_ONLY, f"/api/v1/sessions/{sid}/ws"))
                for sid in ids[:idle]
            ]
        )
        open_secs = time.perf_counter() - started
        rss_connected = await server.rss_bytes()
        print(f"  {args.sessions} sessions created, {idle} text connections opened")
        active = opened[: args.active_text]
        results = await asyncio.gather(*(text_turns(c, r, i, args.turns) for i, (c, r) in enumerate(active)))
    turns = [turn for stream in results for turn in stream]
    attribute_llm(turns, await server.engine_calls())
    print(f"  {len(turns)} text turns done")
    memory = Memory(
        (rss_sessions - rss_start) / max(args.sessions, 1),
        (rss_connected - rss_sessions) / max(idle, 1),
        create_secs,
        open_secs,
    )
    return memory, turns


def report(
    args: argparse.Namespace,
    memory: Memory,
    turns: list[TextTurn],
    levels: list[StreamLevel],
    baseline: float,
) -> None:
    idle = min(args.idle_connections, args.sessions)
    print("\nMemory: server RSS growth after a garbage collection\n")
    print(
        table(
            ["what", "count", "KB each", "time to make", "target"],
            [
                [
                    "idle session (created, no connection)",
                    args.sessions,
                    kb(memory.per_session),
                    f"{memory.create_secs:.1f} s in all",
                    "≤ 50 KB",
                ],
                [
                    "idle text WebSocket connection",
                    idle,
                    kb(memory.per_connection),
                    f"{memory.open_secs:.1f} s in all, {OPENING_CONCURRENCY} at a time",
                    "",
                ],
            ],
        )
    )
    to_delta = [t.to_first_delta for t in turns]
    llm = [t.llm_first_token for t in turns]
    overheads = [t.overhead for t in turns if t.overhead == t.overhead]
    print(f"\nText turns: {min(args.active_text, idle)} connections at once, {args.turns} turns each\n")
    print(
        table(
            ["", "p50 ms", "p99 ms", "n"],
            [
                [
                    "text sent → first `response_delta`",
                    ms(pct(to_delta, 50)),
                    ms(pct(to_delta, 99)),
                    len(turns),
                ],
                [
                    "LLM's own time to first token (in the engine)",
                    ms(pct(llm, 50)),
                    ms(pct(llm, 99)),
                    len(llm),
                ],
                [
                    "turn overhead (the rest: server + transport)",
                    ms(pct(overheads, 50)),
                    ms(pct(overheads, 99)),
                    len(overheads),
                ],
            ],
        )
    )
    print(
        f"\nLive voice streams, {args.seconds:g} s per row. Frame lag: how much later `speech_started` comes than "
        f"for one stream alone ({ms(baseline)} ms after speech onset, the VAD start time). 'one talking': a single "
        f"stream speaks every {PROBE_CYCLE_SECS:g} s, the rest stream silence; 'all talking': every stream speaks "
        f"every {args.cycle:g} s, staggered.\n"
    )
    rows = [
        [
            lv.streams,
            workload(lv),
            f"{lv.utterances / args.seconds:.1f}",
            ms(lv.frame_lag_p50),
            ms(lv.frame_lag_p99),
            ms(pct(lv.to_final, 50)),
            ms(pct(lv.to_final, 99)),
            ms(pct(lv.to_response, 50)),
            f"{lv.missed}/{lv.utterances}",
            ms(lv.max_slip),
            f"{lv.server_cpu:.2f}",
            "yes" if lv.keeps_up() else "NO",
        ]
        for lv in levels
    ]
    headers = (
        "streams|workload|utterances/s|frame lag p50 ms|frame lag p99 ms|end of speech → final p50 ms|"
        "→ final p99 ms|→ first response p50 ms|unanswered|client send slip max ms|server CPU (cores)|keeps up"
    )
    print(table(headers, rows))
    for kind in sorted({workload(lv) for lv in levels}):
        kept = [lv.streams for lv in levels if workload(lv) == kind and lv.keeps_up()]
        print(f"most streams that kept up, {kind}: {max(kept) if kept else 'none'} (of those tried)")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help="sessions to create (idle)")
    parser.add_argument("--idle-connections", type=int, default=1000, help="text WebSockets to open on them")
    parser.add_argument("--active-text", type=int, default=50, help="of those, how many send text turns")
    parser.add_argument("--turns", type=int, default=2, help="text turns per active connection")
    parser.add_argument("--listening", default="50,100", help="stream counts with one stream talking")
    parser.add_argument("--talking", default="10,25,100", help="stream counts with every stream talking")
    parser.add_argument("--voice-output", default="", help="stream counts to rerun talking with voice output")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each stream count runs")
    parser.add_argument(
        "--cycle", type=float, default=10.0, help="seconds between a talking stream's utterances"
    )
    parser.add_argument("--config", type=Path, help="a voxhub YAML config (engines, models)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SETTING=VALUE", help="override a server setting"
    )
    parser.add_argument(
        "--plot", default="docs/img/concurrency.png", help='where to save the plot ("" for none)'
    )
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
