"""The STT contract: transcribe an utterance; streaming partials come from re-decoding the growing buffer."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from voxhub.audio.pcm import PcmAudio

if TYPE_CHECKING:
    from voxhub.config import Settings


@dataclass(frozen=True, slots=True)
class SttCapabilities:
    model: str
    sample_rate_hz: int  # the rate audio is converted to before decoding
    languages: tuple[str, ...]  # empty: any language Whisper knows
    streaming: bool  # True if the engine produces partial transcripts itself


@dataclass(frozen=True, slots=True)
class TranscriptSegment:
    text: str
    start_ms: float
    end_ms: float


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None
    duration_ms: float
    segments: tuple[TranscriptSegment, ...] = ()
    is_final: bool = True


@dataclass(frozen=True, slots=True)
class SttRequest:
    """One utterance of a batch."""

    audio: PcmAudio
    language: str | None = None
    prompt: str | None = None


class SttEngine(Protocol):
    name: str
    capabilities: SttCapabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    async def warm_up(self) -> None: ...

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        """Transcribe one utterance at any rate; raises AudioError on empty audio."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class BatchSttEngine(Protocol):
    """An engine that can decode several utterances in one pass (cheaper than one after another)."""

    async def transcribe_batch(self, requests: Sequence[SttRequest]) -> list[Transcript | Exception]:
        """One transcript, or the error that utterance raised, per request, in order."""
        ...


async def transcribe_stream(
    engine: SttEngine,
    chunks: AsyncIterable[PcmAudio],
    *,
    language: str | None = None,
    partial_interval_ms: float = 400.0,
) -> AsyncIterator[Transcript]:
    """Yield a partial transcript about every `partial_interval_ms` of new audio, then the final one."""
    buffer: list[bytes] = []
    rate = 0
    buffered_ms = 0.0
    last_partial_ms = 0.0
    async for chunk in chunks:
        rate = chunk.sample_rate_hz
        buffer.append(chunk.pcm_s16le)
        buffered_ms += chunk.duration_ms
        if buffered_ms - last_partial_ms >= partial_interval_ms:
            last_partial_ms = buffered_ms
            partial = await engine.transcribe(PcmAudio(b"".join(buffer), rate), language=language)
            yield Transcript(
                partial.text, partial.language, partial.duration_ms, partial.segments, is_final=False
            )
    yield await engine.transcribe(PcmAudio(b"".join(buffer), rate or 16000), language=language)
