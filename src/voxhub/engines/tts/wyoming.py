"""The `wyoming` TTS engine: another box's Wyoming `tts` server (voxhub, wyoming-piper, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Self

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.tts import Synthesize, SynthesizeVoice

from voxhub.audio import PcmAudio
from voxhub.engines.tts.base import TtsCapabilities, require_text
from voxhub.engines.wyoming_remote import RemoteClient, remote_address

if TYPE_CHECKING:
    from voxhub.config import Settings

_DEFAULT_RATE_HZ = 22050  # Piper's; the first audio-start of each answer says the real one


class WyomingTts:
    """One connection per text: `synthesize`, then `audio-start`, `audio-chunk`s (yielded as they come),
    `audio-stop`. Voices and languages are what the server's `describe` lists."""

    name = "wyoming"

    def __init__(self, client: RemoteClient, *, voice: str | None = None) -> None:
        self._client = client
        self._voice = voice
        self.capabilities = TtsCapabilities(
            model=f"wyoming {client.address.uri}",
            sample_rate_hz=_DEFAULT_RATE_HZ,
            languages=(),
            voices=(voice,) if voice else (),
            streaming=True,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        address = remote_address(settings, "tts", "TTS")
        return cls(RemoteClient(address, settings.wyoming_client_timeout_secs), voice=settings.tts_voice)

    async def warm_up(self) -> None:
        """Ask the server for its voices; one that is down now is an error at its first use, not here."""
        try:
            info = await self._client.describe()
        except Exception:
            return
        for program in info.tts:
            voices = tuple(voice.name for voice in program.voices)
            languages = tuple(dict.fromkeys(lang for voice in program.voices for lang in voice.languages))
            self.capabilities = TtsCapabilities(
                model=f"{program.name} ({self._client.address.uri})",
                sample_rate_hz=self.capabilities.sample_rate_hz,
                languages=languages,
                voices=voices or self.capabilities.voices,
                streaming=True,
            )
            return

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        """Stream the server's speech for `text` (mono 16-bit, at its rate); EngineError when it fails."""
        sayable = require_text(text)
        chosen = voice or self._voice
        wanted = SynthesizeVoice(name=chosen, language=language) if chosen or language else None
        async with self._client.connected() as connection:
            await connection.write(Synthesize(text=sayable, voice=wanted).event())
            while True:
                event = await connection.read()
                if AudioStart.is_type(event.type):
                    continue
                if AudioChunk.is_type(event.type):
                    chunk = AudioChunk.from_event(event)
                    yield PcmAudio(_mono_s16(chunk), chunk.rate)
                elif AudioStop.is_type(event.type):
                    return

    async def aclose(self) -> None:
        """Nothing held between requests."""


def _mono_s16(chunk: AudioChunk) -> bytes:
    """The chunk as mono 16-bit samples (a server may send stereo or 8/32-bit)."""
    if chunk.width == 2 and chunk.channels == 1:
        return chunk.audio
    kinds = {1: np.uint8, 2: np.int16, 4: np.int32}
    samples = np.frombuffer(chunk.audio, dtype=kinds.get(chunk.width, np.int16)).astype(np.float64)
    if chunk.width == 1:
        samples = (samples - 128.0) * 256.0
    elif chunk.width == 4:
        samples = samples / 65536.0
    if chunk.channels > 1:
        usable = len(samples) - len(samples) % chunk.channels
        samples = samples[:usable].reshape(-1, chunk.channels).mean(axis=1)
    return bytes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
