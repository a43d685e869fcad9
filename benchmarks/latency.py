"""End-of-speech latency and barge-in over the WebSocket protocol, against a server started in-process.

    .venv/bin/python benchmarks/latency.py [--runs 2] [--barge-ins 4] [--set vad_stop_secs=0.3]

Synthesizes a few questions with voxhub's own TTS (hibari, resampled to 16 kHz), then for each question and
run opens a conversation on `/ws` and streams it in real time, 20 ms frames, with silence before and after
(as a microphone would). From the end of speech (the send time of the frame holding the clip's last loud
sample) it times the arrival of `speech_stopped`, the final `transcript`, the first `response_delta` and the
first byte of response audio, and prints p50/p95.

The server's own overhead is what is left of end of speech → first audio after taking out the configured
endpointing wait (end of speech → `speech_stopped`) and the engine time on the critical path: the part of the
final STT decode after the endpoint, the LLM up to the token that completes the first sentence, and TTS up
to its first chunk. Engine calls are timed by wrapping the live engine objects of the server's pool (same
process, same clock); they still do all their work.

Barge-in: each spoken turn is cut with an `interrupt` message once its audio flows (a short answer), and
`--barge-ins` times a long story is asked for and cut, once by an `interrupt` message and once by the user
speaking over it. The stop time runs from the interrupt (or the first sample of the barging speech) to the
last audio frame of the old turn (for an `interrupt` message: or the `interrupted` event, if later; speech
pauses the audio at its onset, and `interrupted` follows once the VAD confirms it). `--set` changes a
server setting (e.g. `vad_stop_secs=0.3`). Writes `docs/img/latency.png` (`--plot`).

`--browser` also asks each question through the web client in Debian's Chromium (benchmarks/browser_latency.py):
end of speech to the first sound the page played, on the page's own clock.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from browser_latency import browser_report, browser_turns
from client import Clip, Microphone, Receiver, send_event, session, speech_clip
from harness import EngineClock, bench_settings, ms, now, pct, serve_in_process, table
from plot import stacked_turns
from voxhub.engines.pool import EnginePool

QUESTIONS = (
    "What is the capital of France?",
    "How many days are there in a week?",
    "Tell me a fun fact about the moon.",
    "What is two plus two?",
    "Can you recommend a good book to read?",
)
LONG_ANSWER = "Tell me a long story about a dragon and a knight."
BARGE_IN = "Wait, stop please."
LEAD_IN_SECS = 0.5  # silence before the question, so the VAD has settled
AUDIO_PIECES_BEFORE_INTERRUPT = 5  # 5 × 40 ms pieces of answer audio, then the interrupt
STRAGGLER_SECS = 0.5  # after `interrupted`, watch this long for old audio
TARGET_FIRST_AUDIO_SECS = 0.5
TARGET_BARGE_IN_SECS = 0.15


NAN = float("nan")


@dataclass
class Turn:
    """One spoken question: client arrival times, and the engine time found on its critical path."""

    question: str
    end_of_speech: float
    speech_stopped: float | None
    final: float | None
    first_text: float | None
    first_audio: float | None
    transcript: str = ""
    # Whole engine calls, wherever they fell:
    llm_first_token: float = NAN
    llm_first_sentence: float = NAN  # to the token that completed the first sentence
    tts_first_chunk: float = NAN
    speculative: bool = False  # the answer's LLM call started before the endpoint
    # The parts of them after the endpoint, which are what the user waits for:
    stt_path: float = NAN
    llm_token_path: float = NAN
    llm_sentence_path: float = NAN
    tts_path: float = NAN
    interrupt_sent: float | None = None
    interrupted: float | None = None
    last_old_audio: float | None = None

    def since_end(self, at: float | None) -> float:
        return NAN if at is None else at - self.end_of_speech

    @property
    def endpointing(self) -> float:
        return self.since_end(self.speech_stopped)

    @property
    def overhead_to_audio(self) -> float:
        """Endpoint → first audio, less the engine time after the endpoint."""
        if self.speech_stopped is None or self.first_audio is None:
            return NAN
        engines = self.stt_path + self.llm_sentence_path + self.tts_path
        return (self.first_audio - self.speech_stopped) - engines

    @property
    def overhead_to_text(self) -> float:
        if self.speech_stopped is None or self.first_text is None:
            return NAN
        return (self.first_text - self.speech_stopped) - (self.stt_path + self.llm_token_path)

    @property
    def stop_time(self) -> float:
        if self.interrupt_sent is None or self.interrupted is None:
            return NAN
        return max(self.interrupted, self.last_old_audio or 0.0) - self.interrupt_sent


@dataclass
class BargeIn:
    """A long answer cut short: by an `interrupt` message, or by the user speaking over it."""

    by_speech: bool
    trigger: float  # the interrupt left, or the first sample of barging speech
    speech_started: float | None
    interrupted: float | None
    last_old_audio: float | None

    @property
    def detection(self) -> float:
        return float("nan") if self.speech_started is None else self.speech_started - self.trigger

    @property
    def to_event(self) -> float:
        return float("nan") if self.interrupted is None else self.interrupted - self.trigger

    @property
    def stop_time(self) -> float:
        """Until the old answer's audio stopped arriving (the `interrupted` event may confirm it later)."""
        if self.interrupted is None:
            return float("nan")
        return max(self.trigger, self.last_old_audio or 0.0) - self.trigger


def after(start: float, end: float, since: float) -> float:
    """How much of [start, end] lies after `since`."""
    return max(0.0, end - max(start, since))


def attribute_engine_time(turn: Turn, clock: EngineClock, started: float, ended: float) -> None:
    """Find the engine calls on `turn`'s critical path: the final decode, the answer's LLM call, its first TTS."""
    endpoint, answered = turn.speech_stopped, turn.first_audio
    if endpoint is None or turn.final is None or answered is None:
        return
    decodes = [c for c in clock.between("stt", started, ended) if not c.cancelled and c.end <= turn.final]
    if decodes:
        final = max(decodes, key=lambda call: call.end)
        turn.stt_path = after(final.start, final.end, endpoint)
    # The call that answered: the last one started before the first audio (a retracted guess came earlier).
    answers = [c for c in clock.between("llm", started, answered) if c.outputs and c.outputs[0] <= answered]
    if not answers:
        return
    llm = answers[-1]
    tts = next((c for c in clock.between("tts", llm.start, answered) if c.outputs), None)
    turn.speculative = llm.start < endpoint
    turn.llm_first_token = llm.outputs[0] - llm.start
    turn.llm_token_path = after(llm.start, llm.outputs[0], endpoint)
    if tts is not None:
        completing = [t for t in llm.outputs if t <= tts.start] or llm.outputs[:1]
        turn.llm_first_sentence = completing[-1] - llm.start
        turn.llm_sentence_path = after(llm.start, completing[-1], endpoint)
        turn.tts_first_chunk = tts.outputs[0] - tts.start
        turn.tts_path = after(tts.start, tts.outputs[0], endpoint)


def old_audio_after(receiver: Receiver, after: float) -> float | None:
    """The last audio frame that arrived after `after` and before the next turn's `audio_start`."""
    next_start = receiver.first("audio_start", after)
    frames = [t for t in receiver.times("audio", after) if next_start is None or t < next_start]
    return frames[-1] if frames else None


async def spoken_turn(base_url: str, clip: Clip, clock: EngineClock) -> Turn:
    started = now()
    async with session(base_url) as (connection, receiver):
        microphone = Microphone(connection)
        sender = asyncio.create_task(microphone.run())
        await asyncio.sleep(LEAD_IN_SECS)
        utterance = microphone.say(clip)
        try:
            await utterance.done.wait()
            end = utterance.end_sent
            await receiver.wait("audio", after=end, count=AUDIO_PIECES_BEFORE_INTERRUPT, timeout_secs=30)
            turn = Turn(
                clip.text,
                end,
                receiver.first("speech_stopped", end - 1),
                receiver.first("transcript", end - 1, is_final=True),
                receiver.first("response_delta", end),
                receiver.first("audio", end),
                "",
            )
            finals = [b for _, k, b in receiver.log if k == "transcript" and b and b["data"]["is_final"]]
            turn.transcript = finals[-1]["data"]["text"] if finals else ""
            if receiver.first("response", end) is None:  # still answering: cut it short
                turn.interrupt_sent = await send_event(connection, "interrupt")
                turn.interrupted = await receiver.wait(
                    "interrupted", after=turn.interrupt_sent, timeout_secs=10
                )
                await asyncio.sleep(STRAGGLER_SECS)
                turn.last_old_audio = old_audio_after(receiver, turn.interrupt_sent)
        finally:
            sender.cancel()
    attribute_engine_time(turn, clock, started, now())
    return turn


async def long_answer_cut(base_url: str, clip: Clip | None) -> BargeIn:
    """Ask for a long story; once its audio flows, cut it with `clip` spoken, or an `interrupt` if None."""
    async with session(base_url) as (connection, receiver):
        microphone = Microphone(connection)
        sender = asyncio.create_task(microphone.run())
        try:
            asked = await send_event(connection, "text_message", text=LONG_ANSWER)
            await receiver.wait(
                "audio", after=asked, count=2 * AUDIO_PIECES_BEFORE_INTERRUPT, timeout_secs=60
            )
            if clip is None:
                trigger = await send_event(connection, "interrupt")
            else:
                utterance = microphone.say(clip)
                await utterance.started.wait()
                trigger = utterance.onset_sent
            interrupted = await receiver.wait("interrupted", after=trigger - 0.1, timeout_secs=15)
            await asyncio.sleep(STRAGGLER_SECS)
            return BargeIn(
                clip is not None,
                trigger,
                receiver.first("speech_started", trigger - 0.1),
                interrupted,
                old_audio_after(receiver, trigger),
            )
        finally:
            sender.cancel()


def row(name: str, values: list[float], target: str = "") -> list[str]:
    clean = [v for v in values if v == v]
    return [name, ms(pct(clean, 50)), ms(pct(clean, 95)), str(len(clean)), target]


def report(turns: list[Turn], barge_ins: list[BargeIn], server_metrics: dict[str, Any]) -> None:
    heard = [t for t in turns if t.first_audio is not None]
    print(f"\n{len(heard)} of {len(turns)} spoken turns answered with audio\n")
    print("Transcripts (last run):")
    for turn in turns[-len(QUESTIONS) :]:
        print(f"  said {turn.question!r:45} heard {turn.transcript!r}")
    print()
    print(
        table(
            ["from the end of speech to", "p50 ms", "p95 ms", "n", "target"],
            [
                row("`speech_stopped` (endpoint)", [t.endpointing for t in turns]),
                row("final `transcript`", [t.since_end(t.final) for t in turns]),
                row("first `response_delta`", [t.since_end(t.first_text) for t in turns]),
                row(
                    "first response audio byte",
                    [t.since_end(t.first_audio) for t in turns],
                    f"p50 ≤ {1000 * TARGET_FIRST_AUDIO_SECS:.0f}",
                ),
            ],
        )
    )
    speculative = sum(t.speculative for t in turns)
    print(
        "\nWhere end of speech → first audio goes (engine calls timed inside the engines; "
        f"the answer started before the endpoint in {speculative} of {len(turns)} turns):\n"
    )
    print(
        table(
            ["part", "p50 ms", "p95 ms", "n", ""],
            [
                row("endpointing wait (end of speech → `speech_stopped`)", [t.endpointing for t in turns]),
                row("STT final decode, after the endpoint", [t.stt_path for t in turns]),
                row("LLM to the first sentence, after the endpoint", [t.llm_sentence_path for t in turns]),
                row("TTS to its first chunk, after the endpoint", [t.tts_path for t in turns]),
                row("**server overhead → first audio** (the rest)", [t.overhead_to_audio for t in turns]),
                row("server overhead → first text (the rest)", [t.overhead_to_text for t in turns]),
                row("(whole call) LLM to first token", [t.llm_first_token for t in turns]),
                row(
                    "(whole call) LLM to the token ending the first sentence",
                    [t.llm_first_sentence for t in turns],
                ),
                row("(whole call) TTS to first chunk", [t.tts_first_chunk for t in turns]),
            ],
        )
    )
    by_message = [b for b in barge_ins if not b.by_speech]
    by_speech = [b for b in barge_ins if b.by_speech]
    short = [t for t in turns if t.interrupt_sent is not None]
    target = f"≤ {1000 * TARGET_BARGE_IN_SECS:.0f}"
    print(
        "\nBarge-in (audio stopped = the old turn's last audio frame; for `interrupt`, or `interrupted` if later):\n"
    )
    print(
        table(
            ["", "p50 ms", "p95 ms", "n", "target"],
            [
                row(
                    "short answer: `interrupt` → `interrupted`",
                    [t.interrupted - t.interrupt_sent for t in short if t.interrupted and t.interrupt_sent],
                ),
                row("short answer: `interrupt` → audio stopped", [t.stop_time for t in short], target),
                row("long answer: `interrupt` → `interrupted`", [b.to_event for b in by_message]),
                row("long answer: `interrupt` → audio stopped", [b.stop_time for b in by_message], target),
                row("long answer: speech onset → `speech_started`", [b.detection for b in by_speech]),
                row("long answer: speech onset → `interrupted`", [b.to_event for b in by_speech]),
                row("long answer: speech onset → audio stopped", [b.stop_time for b in by_speech]),
            ],
        )
    )
    late = sum(
        1 for b in barge_ins if b.last_old_audio and b.interrupted and b.last_old_audio > b.interrupted
    )
    print(f"\nbarge-ins with old-turn audio after `interrupted`: {late} of {len(barge_ins)}")
    print("\nThe server's own latency metrics (GET /api/v1/metrics, all turns of this run):\n")
    latency = server_metrics.get("latency_ms", {})
    print(
        table(
            ["stage", "p50 ms", "p95 ms", "count"],
            [[stage, f["p50"], f["p95"], f["count"]] for stage, f in latency.items()],
        )
    )


def plot(turns: list[Turn], path: Path) -> None:
    done = [t for t in turns if t.first_audio is not None and t.overhead_to_audio == t.overhead_to_audio]
    parts = [
        ("endpointing wait", [t.endpointing for t in done]),
        ("STT after endpoint", [t.stt_path for t in done]),
        ("LLM to first sentence", [t.llm_sentence_path for t in done]),
        ("TTS first chunk", [t.tts_path for t in done]),
        ("server overhead", [t.overhead_to_audio for t in done]),
    ]
    labels = [f"{i + 1}. {t.question[:32]}" for i, t in enumerate(done)]
    title = "Where end of speech → first audio goes, per spoken turn (2 cores)"
    stacked_turns(labels, parts, TARGET_FIRST_AUDIO_SECS, title, path)


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set takes setting=value, got {pair!r}")
        overrides[key] = value
    return overrides


async def main(args: argparse.Namespace) -> None:
    overrides = parse_overrides(args.set)
    with tempfile.TemporaryDirectory(prefix="voxhub-bench-") as tmp:
        settings = bench_settings(Path(tmp) / "data", args.config, **overrides)
        print(
            f"engines: vad={settings.vad_engine} stt={settings.stt_engine}/{settings.stt_model} "
            f"llm={settings.llm_engine} tts={settings.tts_engine}; vad_start_secs={settings.vad_start_secs} "
            f"vad_stop_secs={settings.vad_stop_secs}"
        )
        pool = await EnginePool.load(settings)
        try:
            speaker = await pool.get("tts", args.speech_engine)
            clips = [await speech_clip(speaker, text) for text in QUESTIONS]
            stop_clip = await speech_clip(speaker, BARGE_IN)
            clock = EngineClock()
            clock.install(pool)
            turns: list[Turn] = []
            barge_ins: list[BargeIn] = []
            async with serve_in_process(settings, pool) as url:
                for run in range(args.runs):
                    for clip in clips:
                        try:
                            turns.append(await spoken_turn(url, clip, clock))
                        except (TimeoutError, ConnectionError) as exc:
                            print(f"run {run + 1}: {clip.text!r} got no answer ({exc!r})", file=sys.stderr)
                for _ in range(args.barge_ins):
                    for cut in (None, stop_clip):
                        try:
                            barge_ins.append(await long_answer_cut(url, cut))
                        except (TimeoutError, ConnectionError) as exc:
                            print(f"barge-in got no `interrupted` ({exc!r})", file=sys.stderr)
                async with httpx.AsyncClient(base_url=url) as http:
                    server_metrics = (await http.get("/api/v1/metrics")).json()
                browser_rows = await browser_turns(url, clips, args.runs) if args.browser else []
        finally:
            await pool.aclose()
    mean_secs = statistics.mean(clip.audio.duration_secs for clip in clips)
    print(f"\nquestions spoken by {args.speech_engine}, {mean_secs:.1f} s of speech on average")
    report(turns, barge_ins, server_metrics)
    if args.browser:
        browser_report(browser_rows, [t.since_end(t.first_audio) for t in turns])
    if args.plot:
        plot(turns, Path(args.plot))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help=f"passes over the {len(QUESTIONS)} questions")
    parser.add_argument(
        "--barge-ins", type=int, default=4, help="long answers cut by `interrupt`, and as many by speech"
    )
    parser.add_argument("--speech-engine", default="hibari", help="voxhub TTS engine that says the questions")
    parser.add_argument("--config", type=Path, help="a voxhub YAML config (engines, models)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SETTING=VALUE", help="override a server setting"
    )
    parser.add_argument("--plot", default="docs/img/latency.png", help='where to save the plot ("" for none)')
    parser.add_argument("--browser", action="store_true", help="measure through the web client")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
