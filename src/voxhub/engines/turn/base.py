"""The end-of-turn contract: an engine scores how complete the user's turn looks at a pause.

The listener asks once per pause, a little into it, with the utterance's audio and (for engines that read
words) the speculative transcript; the verdict sets how much silence ends the turn: a complete-looking turn
ends after `COMPLETE_MS`, an incomplete one waits `INCOMPLETE_MS`, and an unsure one the VAD's own window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self

from voxhub.audio.pcm import PcmAudio

if TYPE_CHECKING:
    from voxhub.config import Settings

COMPLETE_MS = 250.0  # silence that ends a turn that looks complete
INCOMPLETE_MS = 1200.0  # and one that looks cut off mid-sentence
COMPLETE_AT = 0.5  # a verdict at or above this looks complete
INCOMPLETE_BELOW = 0.02  # and below this, incomplete; between the two the VAD's silence window decides


@dataclass(frozen=True, slots=True)
class TurnCapabilities:
    model: str  # what a user would call the model, for listings
    reads_text: bool  # the verdict needs the words said so far (the speculative transcript)
    reads_audio: bool  # and/or the utterance's audio


@dataclass(frozen=True, slots=True)
class TurnQuery:
    """What a pause looks like: the utterance up to now (16 kHz mono, its silence included) and its words."""

    audio: PcmAudio
    text: str = ""
    language: str | None = None


class TurnEngine(Protocol):
    """A loaded end-of-turn model, shared by every session; `complete` never blocks the event loop."""

    name: str
    capabilities: TurnCapabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    async def warm_up(self) -> None: ...

    async def complete(self, query: TurnQuery) -> float | None:
        """The probability (0–1) that the turn is over at this pause; None when the engine has no opinion."""
        ...

    async def aclose(self) -> None: ...


def silence_needed_ms(probability: float | None, window_ms: float) -> float:
    """The silence that ends the turn given the engine's verdict; `window_ms` is the VAD's silence window."""
    if probability is None:
        return window_ms
    if probability >= COMPLETE_AT:
        return min(COMPLETE_MS, window_ms)
    if probability < INCOMPLETE_BELOW:
        return max(INCOMPLETE_MS, window_ms)
    return window_ms


def longest_wait_ms(engine: TurnEngine | None, window_ms: float) -> float:
    """The longest pause a turn may still go on after: the VAD's window, or longer for an engine that waits."""
    if engine is None or not (engine.capabilities.reads_text or engine.capabilities.reads_audio):
        return window_ms
    return max(INCOMPLETE_MS, window_ms)
