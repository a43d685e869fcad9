"""The TTS contract: text in, a stream of PCM chunks out (one or more per sentence)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self

from voxhub.audio.pcm import PcmAudio
from voxhub.config import env_name
from voxhub.errors import ConfigError, EmptyTextError, InputError, PayloadTooLargeError, VoxhubError

if TYPE_CHECKING:
    from voxhub.config import Settings


@dataclass(frozen=True, slots=True)
class TtsCapabilities:
    model: str
    sample_rate_hz: int
    languages: tuple[str, ...]
    voices: tuple[str, ...]
    streaming: bool  # True if audio arrives before the whole text is synthesized


class TtsEngine(Protocol):
    name: str
    capabilities: TtsCapabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    async def warm_up(self) -> None: ...

    def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        """Stream the speech for `text`; raises EmptyTextError for blank text."""
        ...

    async def aclose(self) -> None: ...


# A run of more digits than this is no number anyone says (a phone number, an id, a hostile 9,999 zeros
# that one G2P cannot even parse): it is read digit by digit.
LONGEST_NUMBER_DIGITS = 15
_DIGIT_RUN = re.compile(rf"\d{{{LONGEST_NUMBER_DIGITS + 1},}}")


# The most a voice model is given at once: a longer sentence is cut at a clause, else between words. A model
# sized to sentences asked for thousands of words in one go tried to allocate 28 GB.
PIECE_CHARS = 240
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE = re.compile(r"(?<=[,;:])\s+")


def spoken_pieces(text: str, max_chars: int = PIECE_CHARS) -> list[str]:
    """`text` in pieces of at most `max_chars`, cut at sentences first, then clauses, then between words (a
    "word" longer than a piece is cut too)."""
    pieces: list[str] = []
    for sentence in _SENTENCE.split(text):
        for clause in _CLAUSE.split(sentence) if len(sentence) > max_chars else [sentence]:
            piece = ""
            for word in (w[i : i + max_chars] for w in clause.split() for i in range(0, len(w), max_chars)):
                if piece and len(piece) + 1 + len(word) > max_chars:
                    pieces.append(piece)
                    piece = word
                else:
                    piece = f"{piece} {word}" if piece else word
            if piece:
                pieces.append(piece)
    return pieces


# About a quarter of an hour of speech: the most one request may ask a voice to say (the CPU it takes is
# everyone's; 10,000 digits read one by one would be most of an hour).
MAX_SPOKEN_WORDS = 2000


def require_text(text: str) -> str:
    """The text stripped and sayable; EmptyTextError when nothing is left to say, PayloadTooLargeError for
    more than MAX_SPOKEN_WORDS."""
    stripped = text.strip()
    if not stripped:
        raise EmptyTextError("text to speak is empty")
    sayable = _DIGIT_RUN.sub(lambda run: " ".join(run.group()), stripped)
    words = sayable.count(" ") + 1
    if words > MAX_SPOKEN_WORDS and len(sayable.split()) > MAX_SPOKEN_WORDS:
        raise PayloadTooLargeError(
            f"the text is {len(sayable.split())} words to say; one request speaks at most {MAX_SPOKEN_WORDS}"
            " (about a quarter of an hour): send it in parts",
            details={"limit_words": MAX_SPOKEN_WORDS, "words": len(sayable.split())},
        )
    return sayable


def unknown_voice(
    engine: str, voice: str, voices: Sequence[str], *, from_setting: bool = False
) -> VoxhubError:
    """The error for a voice `engine` does not have: naming `tts_voice` when the setting asked for it."""
    message = f"{engine} has no voice {voice!r}; available: {', '.join(voices)}"
    if from_setting:
        return ConfigError(
            f"tts_voice ({env_name('tts_voice')}): {message}", details={"setting": "tts_voice"}
        )
    return InputError(message, details={"voice": voice, "voices": list(voices)})


def require_speed(speed: float) -> float:
    """`speed` if it is a speaking rate engines can honour (above 0.25, at most 4), else InputError."""
    if not 0.25 < speed <= 4.0:
        raise InputError(f"speed must be above 0.25 and at most 4.0, got {speed}", details={"speed": speed})
    return speed


async def synthesize_all(engine: TtsEngine, text: str, **options: str | float | None) -> PcmAudio:
    """The whole utterance as one clip."""
    parts = [chunk async for chunk in engine.synthesize(text, **options)]  # type: ignore[arg-type]
    rate = parts[0].sample_rate_hz if parts else engine.capabilities.sample_rate_hz
    return PcmAudio(b"".join(part.pcm_s16le for part in parts), rate)
