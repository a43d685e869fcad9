"""Two wake-word engines on one stream: microWakeWord and openWakeWord; a word fires when either fires.

They miss different voices (benchmarks/wake.py, docs/benchmarks.md): microWakeWord misses most espeak-ng
"Hey Jarvis" and hibari's "Okay Nabu"; openWakeWord misses espeak-ng's British "Okay Nabu" and every
espeak-ng "Hey Mycroft". Either-fires hears nearly every voice; it also adds both engines' false fires on
near misses, which is why it is not the default (the figures say by how much).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Self

from voxhub.engines.wake.base import WakeCapabilities, WakeDetection, check_known_wake_words
from voxhub.engines.wake.custom import custom_models
from voxhub.engines.wake.micro import KNOWN_WAKE_WORDS as MICRO_WORDS
from voxhub.engines.wake.micro import MicroWake, MicroWakeStream
from voxhub.engines.wake.openwakeword import BUILTIN_WAKE_WORDS as OWW_WORDS
from voxhub.engines.wake.openwakeword import OpenWake, OpenWakeStream

if TYPE_CHECKING:
    from voxhub.config import Settings

REFRACTORY_MS = 1000.0


class CombinedWakeStream:
    def __init__(self, micro: MicroWakeStream | None, oww: OpenWakeStream | None) -> None:
        self._micro = micro
        self._oww = oww
        self._heard_ms = 0.0
        self._quiet_until_ms = 0.0

    def process(self, pcm_s16le: bytes) -> WakeDetection | None:
        self._heard_ms += len(pcm_s16le) / 32
        detection: WakeDetection | None = None
        if self._micro is not None:
            detection = self._micro.process(pcm_s16le)
        if self._oww is not None:
            heard = self._oww.process(pcm_s16le)
            if detection is None:
                detection = heard
        if detection is None or self._heard_ms < self._quiet_until_ms:
            return None
        self._quiet_until_ms = self._heard_ms + REFRACTORY_MS
        return WakeDetection(detection.wake_word, detection.confidence, self._heard_ms)

    def peak_scores(self) -> dict[str, float]:
        peaks: dict[str, float] = {}
        for stream in (self._micro, self._oww):
            if stream is not None:
                peaks.update(stream.peak_scores())
        return peaks

    def reset(self) -> None:
        for stream in (self._micro, self._oww):
            if stream is not None:
                stream.reset()
        self._heard_ms = 0.0
        self._quiet_until_ms = 0.0


class CombinedWake:
    name = "combined"

    def __init__(self, micro: MicroWake, oww: OpenWake, wake_words: Sequence[str]) -> None:
        self._micro = micro
        self._oww = oww
        known = tuple(dict.fromkeys((*micro.capabilities.wake_words, *oww.capabilities.wake_words)))
        self.capabilities = WakeCapabilities(
            model="microWakeWord + openWakeWord", sample_rate_hz=16000, wake_words=known
        )
        self.wake_words = check_known_wake_words(wake_words, known)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        custom = custom_models(settings)
        words = settings.wake_words
        micro_known = (*MICRO_WORDS, *(model.wake_word for model in custom if model.engine == "micro"))
        oww_known = (*OWW_WORDS, *(model.wake_word for model in custom if model.engine == "openwakeword"))
        # Each engine loads the configured words it has (a word neither has is refused below).
        micro = MicroWake(
            [w for w in words if w in micro_known] or MICRO_WORDS[:1], settings.wake_threshold, custom
        )
        oww = OpenWake([w for w in words if w in oww_known] or OWW_WORDS[:1], settings.wake_threshold, custom)
        return cls(micro, oww, words)

    async def warm_up(self) -> None:
        await asyncio.gather(self._micro.warm_up(), self._oww.warm_up())

    def create_stream(
        self, wake_words: Sequence[str] | None = None, sensitivity: float | None = None
    ) -> CombinedWakeStream:
        words = (
            self.wake_words
            if wake_words is None
            else check_known_wake_words(wake_words, self.capabilities.wake_words)
        )
        micro_words = [w for w in words if w in self._micro.capabilities.wake_words]
        oww_words = [w for w in words if w in self._oww.capabilities.wake_words]
        return CombinedWakeStream(
            self._micro.create_stream(micro_words, sensitivity) if micro_words else None,
            self._oww.create_stream(oww_words, sensitivity) if oww_words else None,
        )

    async def aclose(self) -> None:
        await asyncio.gather(self._micro.aclose(), self._oww.aclose())
