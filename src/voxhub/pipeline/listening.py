"""What a session's listening is set up with: how speech is accepted, and the audio heard so far."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Literal

from voxhub.audio.pcm import PcmAudio
from voxhub.engines.vad.base import VadStream
from voxhub.engines.vad.segmenter import FrameChunker, SpeechSegmenter
from voxhub.engines.wake.base import WakeStream

RATE_HZ = 16000
BYTES_PER_MS = RATE_HZ * 2 // 1000
Activation = Literal["vad", "wake_word", "push_to_talk"]


@dataclass(frozen=True, slots=True)
class ListeningOptions:
    """How one session decides when the user is talking to it."""

    activation: Activation = "vad"
    wake_words: tuple[str, ...] = ()
    wake_sensitivity: float | None = None  # 0-1, 0.5 keeps each model's cutoff; None: the setting's
    vad_threshold: float | None = None  # the profile's speech-probability cutoff; None: the setting's
    follow_up_secs: float = 30.0  # after an utterance, wake-word sessions listen this long without the word
    start_secs: float = 0.2
    stop_secs: float = 0.5
    min_speech_secs: float = 0.25
    max_utterance_secs: float = 30.0
    language: str | None = None
    partial_interval_ms: float = 400.0
    partials: bool = True  # partial transcripts while the user speaks; off, only finals are decoded
    # VAD ends speech before soft word endings ("France" loses its "s"): decode this much more on each side.
    decode_padding_ms: float = 100.0
    # The final decode starts this far into a pause, before the endpoint is certain; wasted if speech resumes.
    # Not sooner than the padding, so the speculative decode hears the same tail as a late one would.
    speculate_after_ms: float = 100.0


class HeardAudio:
    """A session's 16 kHz audio from `origin_ms` on: appended per chunk, clipped for decodes, trimmed."""

    def __init__(self) -> None:
        self._pcm = bytearray()
        self.origin_ms = 0.0
        self.position_ms = 0.0  # audio received so far

    def append(self, pcm: bytes) -> None:
        self._pcm += pcm
        self.position_ms += len(pcm) / BYTES_PER_MS

    def clip(self, start_ms: float, end_ms: float) -> PcmAudio:
        """The audio from `start_ms` to `end_ms`, as much of it as is still held."""
        start = int((max(start_ms, self.origin_ms) - self.origin_ms) * BYTES_PER_MS) & ~1
        end = int((min(end_ms, self.position_ms) - self.origin_ms) * BYTES_PER_MS) & ~1
        return PcmAudio(bytes(self._pcm[start:end]), RATE_HZ)

    def clear(self) -> None:
        self._pcm.clear()
        self.origin_ms = self.position_ms

    def keep_from(self, keep_from_ms: float) -> None:
        """Drop the audio before `keep_from_ms`, in whole seconds, so the memmove is rare."""
        excess_ms = keep_from_ms - self.origin_ms
        if excess_ms > 1000.0:
            cut = int(excess_ms) * BYTES_PER_MS
            del self._pcm[:cut]
            self.origin_ms += cut / BYTES_PER_MS


def wake_phrase_pattern(wake_words: tuple[str, ...]) -> re.Pattern[str]:
    """Matches a wake phrase at the start of a transcript ("Hey Jarvis," "OK Nabu."), to strip it."""
    variants = []
    for word in wake_words or ("okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"):
        parts = [re.escape(part) for part in word.split("_")]
        if parts[0] == "okay":
            parts[0] = "(?:okay|ok|o\\.k\\.)"
        variants.append(r"\W*".join(parts))
    return re.compile(r"^\W*(?:" + "|".join(variants) + r")\b\W*", re.IGNORECASE)


@dataclass(slots=True)
class Ears:
    """A session's per-frame VAD and wake-word state, made on its first audio."""

    vad: VadStream
    frames: FrameChunker
    segmenter: SpeechSegmenter
    wake: WakeStream | None


@dataclass(slots=True)
class Decode:
    """A final decode started before the endpoint was certain (speculatively, in a pause)."""

    task: asyncio.Task[str]
    end_ms: float
    tentative_sent: bool = False  # its text went out as a tentative transcript (the answer may have started)
