"""The wake-word contract: per-session streams fed 16 kHz PCM, reporting detections."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self

from voxhub.audio.pcm import PcmAudio
from voxhub.config import env_name
from voxhub.errors import ConfigError

if TYPE_CHECKING:
    from voxhub.config import Settings


@dataclass(frozen=True, slots=True)
class WakeCapabilities:
    model: str
    sample_rate_hz: int
    wake_words: tuple[str, ...]  # every word the engine can listen for


@dataclass(frozen=True, slots=True)
class WakeDetection:
    wake_word: str
    confidence: float
    timestamp_ms: float  # end of the audio that fired, from the start of the stream


class WakeStream(Protocol):
    """Per-session wake-word state; synchronous because it runs per frame."""

    def process(self, pcm_s16le: bytes) -> WakeDetection | None:
        """Feed any amount of 16 kHz mono s16le; returns a detection when a word fires."""
        ...

    def reset(self) -> None: ...

    def peak_scores(self) -> dict[str, float]:
        """The highest score of each `<engine>:<word>` since the last call (then forgotten), for tuning."""
        ...


class WakeEngine(Protocol):
    name: str
    capabilities: WakeCapabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    async def warm_up(self) -> None: ...

    def create_stream(
        self, wake_words: Sequence[str] | None = None, sensitivity: float | None = None
    ) -> WakeStream:
        """A stream listening for `wake_words` (default: the configured ones).

        `sensitivity` (0-1, a profile's `wake_word.sensitivity`) moves every word's cutoff: 0.5 keeps it,
        1 fires on a tenth of it, 0 almost never fires.
        """
        ...

    async def aclose(self) -> None: ...


async def wake_detections(
    stream: WakeStream, chunks: AsyncIterable[PcmAudio]
) -> AsyncIterator[WakeDetection]:
    """Every detection in a live 16 kHz stream, as it happens (feed chunks of 10–30 ms for exact times)."""
    async for chunk in chunks:
        detection = stream.process(chunk.pcm_s16le)
        if detection is not None:
            yield detection


def sensitive_cutoff(cutoff: float, sensitivity: float) -> float:
    """`cutoff` moved by a sensitivity from 0 (strict) through 0.5 (unchanged) to 1 (eager)."""
    sensitivity = min(1.0, max(0.0, sensitivity))
    if sensitivity >= 0.5:
        return cutoff * (1.0 - 1.8 * (sensitivity - 0.5))
    return cutoff + (1.0 - cutoff) * 1.98 * (0.5 - sensitivity)


def check_known_wake_words(wake_words: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    """`wake_words` if each is in `known`, else a ConfigError naming the setting and the choices."""
    unknown = [word for word in wake_words if word not in known]
    if unknown or not wake_words:
        problem = f"unknown wake word {', '.join(map(repr, unknown))}" if unknown else "no wake word given"
        raise ConfigError(
            f"wake_words ({env_name('wake_words')}): {problem}; choose from: {', '.join(known)}",
            details={"setting": "wake_words", "unknown": unknown, "choices": list(known)},
        )
    return tuple(dict.fromkeys(wake_words))
