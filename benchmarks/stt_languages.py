"""Polish speech to text: WER of Whisper base on Polish, and how often `auto` identifies the language.

    PYTHONPATH=src .venv/bin/python benchmarks/stt_languages.py

Speech is synthesized with the espeak-ng program's Polish voice (`-v pl`, two speeds, and the `pl+f2`
variant); voxhub ships no Polish neural voice (hibari and the Piper joe voice speak English only). The English
set (espeak-ng en-us) checks that `auto` still hears English. WER is over all the words of a set, with the
language given (`pl`) and with `auto`; "identified" is the share of utterances `auto` called the right
language, without and with `stt_auto_languages=en,pl`. Decode time is the wall time of one `transcribe`
call, p50/p95. Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import time

from stt_window import edit_distance, percentile, words
from voxhub.audio import PcmAudio, decode_audio, resample
from voxhub.config import Settings
from voxhub.engines.stt.whisper import WhisperStt

POLISH = (
    "Włącz światło w kuchni.",
    "Wyłącz lampę w salonie.",
    "Ustaw minutnik na pięć minut.",
    "Jaka jest dzisiaj pogoda?",
    "Jaka jest temperatura w salonie?",
    "Dzień dobry, jak się masz?",
    "Która jest godzina?",
    "Włącz telewizor.",
    "Zamknij drzwi wejściowe.",
    "Przypomnij mi jutro rano o lekarzu.",
    "Zagraj cichą muzykę w sypialni.",
    "Dodaj mleko i chleb do listy zakupów.",
)
ENGLISH = (
    "Turn on the lights in the living room.",
    "What is the weather like this afternoon?",
    "Set a timer for ten minutes.",
    "Lock the front door and turn off the porch light.",
)
POLISH_VOICES = (("pl", 130), ("pl", 160), ("pl+f2", 130))


def espeak(text: str, voice: str, words_per_minute: int) -> PcmAudio:
    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run(
        [program, "-v", voice, "-s", str(words_per_minute), "--stdout", text], capture_output=True, check=True
    ).stdout
    quiet = PcmAudio.silence(200, 16000)
    return quiet + resample(decode_audio(wav), 16000) + quiet


async def measure(
    engine: WhisperStt, clips: list[tuple[str, PcmAudio]], language: str, expected: str
) -> tuple[float, float, list[float]]:
    """(WER, share identified as `expected`, decode seconds per clip) over `clips`."""
    errors = total = right = 0
    secs: list[float] = []
    for reference, audio in clips:
        started = time.perf_counter()
        transcript = await engine.transcribe(audio, language=language)
        secs.append(time.perf_counter() - started)
        errors += edit_distance(words(reference), words(transcript.text))
        total += len(words(reference))
        right += transcript.language == expected
    return errors / total, right / len(clips), secs


def row(name: str, language: str, wer: float, identified: float | None, secs: list[float]) -> str:
    shown = "—" if identified is None else f"{100 * identified:.0f} %"
    timing = f"{1000 * statistics.median(secs):.0f} / {1000 * percentile(secs, 0.95):.0f} ms"
    return f"| {name} | {language} | {100 * wer:.1f} % | {shown} | {timing} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    print(f"{len(POLISH)} Polish sentences per voice, {len(ENGLISH)} English; model: Whisper base (int8)")
    print()
    print("| speech | language asked | WER | identified | decode p50 / p95 |")
    print("|---|---|---|---|---|")
    plain = WhisperStt.from_settings(Settings(stt_threads=args.threads))
    narrowed = WhisperStt.from_settings(Settings(stt_threads=args.threads, stt_auto_languages=["en", "pl"]))
    await plain.warm_up()
    sets = [
        (f"espeak-ng {voice}, {speed} wpm", [(text, espeak(text, voice, speed)) for text in POLISH], "pl")
        for voice, speed in POLISH_VOICES
    ]
    sets.append(("espeak-ng en-us, 160 wpm", [(text, espeak(text, "en-us", 160)) for text in ENGLISH], "en"))
    for name, clips, expected in sets:
        if expected == "pl":
            wer, _, secs = await measure(plain, clips, "pl", expected)
            print(row(name, "pl", wer, None, secs), flush=True)
        wer, identified, secs = await measure(plain, clips, "auto", expected)
        print(row(name, "auto", wer, identified, secs), flush=True)
        wer, identified, secs = await measure(narrowed, clips, "auto", expected)
        print(row(name, "auto (en, pl)", wer, identified, secs), flush=True)
    await plain.aclose()
    await narrowed.aclose()
    print()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
