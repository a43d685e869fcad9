"""Test speech, synthesized on the spot: espeak-ng's command line (an independent voice) or a voxhub engine."""

from __future__ import annotations

import re
import shutil
import subprocess

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
