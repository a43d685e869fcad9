"""wake: `detect` + audio → `detection` for each word that fires, `not-detected` at `audio-stop` if none did."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from wyoming.event import Event
from wyoming.wake import Detection, NotDetected

from voxhub.audio import PcmAudio
from voxhub.engines.wake.base import WakeDetection, WakeEngine
from voxhub.errors import InputError

Write = Callable[[Event], Awaitable[None]]
Heard = Callable[[WakeDetection], None]  # for the event bus


def wake_word_names(engine: WakeEngine, requested: Sequence[str] | None) -> list[str] | None:
    """The engine's names for `requested` ("Hey Jarvis" finds `hey_jarvis`); None asks for the default."""
    if not requested:
        return None
    known = {_key(word): word for word in engine.capabilities.wake_words}
    found = [known[_key(name)] for name in requested if _key(name) in known]
    if not found:
        raise InputError(
            f"no such wake word: {', '.join(requested)}; available: {', '.join(known.values())}",
            details={"names": list(requested), "available": list(known.values())},
        )
    return found


class WakeListening:
    """One detection request over an audio stream."""

    def __init__(
        self, engine: WakeEngine, write: Write, names: Sequence[str] | None, heard: Heard | None = None
    ) -> None:
        self._stream = engine.create_stream(wake_word_names(engine, names))
        self._write = write
        self._heard = heard
        self.detected = False

    async def push(self, audio: PcmAudio) -> None:
        # Off the event loop: the models run per 10 ms of audio, and other connections must not wait.
        detection = await asyncio.to_thread(self._stream.process, audio.pcm_s16le)
        if detection is not None:
            self.detected = True
            await self._write(
                Detection(name=detection.wake_word, timestamp=round(detection.timestamp_ms)).event()
            )
            if self._heard is not None:
                self._heard(detection)

    async def finish(self) -> None:
        if not self.detected:
            await self._write(NotDetected().event())


def _key(name: str) -> str:
    return "_".join(name.lower().replace("-", " ").replace("_", " ").split())
