"""The wake-word contract: per-session streams fed 16 kHz PCM, reporting detections."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self

from voxhub.audio.pcm import PcmAudio

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


class WakeEngine(Protocol):
    name: str
    capabilities: WakeCapabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    async def warm_up(self) -> None: ...

    def create_stream(self, wake_words: Sequence[str] | None = None) -> WakeStream:
        """A stream listening for `wake_words` (default: the configured ones)."""
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
