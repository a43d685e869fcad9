"""Clips for the VAD tests: espeak speech whose true boundaries are measured from the samples, and noise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from tests.speech import espeak_speech, padded
from voxhub.audio import PcmAudio

# -40 dBFS: espeak fades in and out through near-silence, and pads with digital silence of its own.
_AUDIBLE = 328


@dataclass(frozen=True)
class Spoken:
    """Audio holding speech from `start_ms` to `end_ms` (first and last audible sample), silence around it."""

    audio: PcmAudio
    start_ms: float
    end_ms: float

    def then(self, other: Spoken) -> Spoken:
        """This clip followed by `other`; the boundaries are those of `other`, shifted."""
        shift = self.audio.duration_ms
        return Spoken(self.audio + other.audio, shift + other.start_ms, shift + other.end_ms)


def speak(text: str, *, before_ms: float, after_ms: float, sample_rate_hz: int = 16000) -> Spoken:
    speech = espeak_speech(text, sample_rate_hz=sample_rate_hz)
    audible = np.flatnonzero(np.abs(speech.samples().astype(np.int32)) > _AUDIBLE)
    to_ms = 1000 / sample_rate_hz
    return Spoken(
        padded(speech, before_ms=before_ms, after_ms=after_ms),
        before_ms + audible[0] * to_ms,
        before_ms + (audible[-1] + 1) * to_ms,
    )


@pytest.fixture(scope="session")
def spoken() -> Callable[..., Spoken]:
    """`spoken(text, before_ms=..., after_ms=...)`: espeak's `text` padded with silence, bounds measured."""
    return speak


@pytest.fixture(scope="session")
def low_noise() -> PcmAudio:
    """Four seconds of white noise at -40 dBFS, like a fan or a quiet room's hiss."""
    rng = np.random.default_rng(7)
    return PcmAudio.from_float32(rng.normal(0.0, 0.01, 4 * 16000), 16000)
