"""The VAD contract: an engine hands out per-session streams that score fixed-size frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from voxhub.config import Settings


@dataclass(frozen=True, slots=True)
class VadCapabilities:
    model: str  # what a user would call the model, for listings
    sample_rates_hz: tuple[int, ...]
    frame_ms: float  # duration of the frame each call scores
    streaming: bool = True


class VadStream(Protocol):
    """Per-session VAD state. `frame_samples` is fixed; the hot path, so it is synchronous."""

    @property
    def sample_rate_hz(self) -> int: ...

    @property
    def frame_samples(self) -> int: ...

    @property
    def hangover_frames(self) -> int:
        """Frames the engine keeps flagging speech after speech stops; ends followed by silence lose them."""
        ...

    def is_speech(self, frame_s16le: bytes | bytearray | memoryview) -> bool:
        """Whether one frame of exactly `frame_samples` samples holds speech."""
        ...

    def reset(self) -> None:
        """Forget all state before an unrelated stream."""
        ...


class VadEngine(Protocol):
    """A loaded VAD model, shared by every session."""

    name: str
    capabilities: VadCapabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    async def warm_up(self) -> None: ...

    def create_stream(self, sample_rate_hz: int = 16000, threshold: float | None = None) -> VadStream:
        """A new, independent stream for one session.

        `threshold` (0-1, a listening profile's `vad_threshold`) is how sure the engine must be that a frame
        is speech; None keeps the `vad_threshold` setting.
        """
        ...

    async def aclose(self) -> None: ...
