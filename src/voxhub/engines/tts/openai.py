"""The `openai` TTS engine: `/v1/audio/speech` of any OpenAI-compatible API, streamed as raw PCM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Self

from voxhub.audio import PcmAudio
from voxhub.audio.pcm import SAMPLE_WIDTH_BYTES
from voxhub.engines.openai_service import api_key_of, make_client, require_base_url, service_errors
from voxhub.engines.tts.base import TtsCapabilities, require_text

if TYPE_CHECKING:
    from voxhub.config import Settings

PCM_RATE_HZ = 24000  # OpenAI's `pcm` speech format: 24 kHz, 16-bit signed little-endian, mono
OPENAI_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
)  # fmt: skip
_SERVICE = "the OpenAI-compatible speech service"


class OpenAiTts:
    """Stream speech as the service sends it, never splitting a sample between chunks."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        voice: str,
        speed: float = 1.0,
        timeout_secs: float = 30.0,
    ) -> None:
        self._client = make_client(base_url, api_key, timeout_secs)
        self._base_url = base_url
        self._api_key = api_key
        self._model = model
        self._voice = voice
        self._speed = speed
        # Other OpenAI-compatible servers have voices of their own; any name is passed through.
        voices = OPENAI_VOICES if voice in OPENAI_VOICES else (voice, *OPENAI_VOICES)
        # No language list: the service decides what it can speak.
        self.capabilities = TtsCapabilities(
            model=model, sample_rate_hz=PCM_RATE_HZ, languages=(), voices=voices, streaming=True
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            base_url=require_base_url(settings),
            api_key=api_key_of(settings),
            model=settings.openai_tts_model,
            voice=settings.openai_tts_voice,
            speed=settings.tts_speed,
            timeout_secs=settings.openai_timeout_secs,
        )

    async def warm_up(self) -> None:
        """Nothing to load; a remote service is checked by the first request, not at start-up."""

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        """Stream the speech for `text` (the service picks the language itself)."""
        spoken = require_text(text)
        carry = b""
        with service_errors(_SERVICE, self._base_url, self._api_key):
            async with self._client.audio.speech.with_streaming_response.create(
                model=self._model,
                input=spoken,
                voice=voice or self._voice,
                response_format="pcm",
                speed=speed or self._speed,
            ) as response:
                async for data in response.iter_bytes():
                    data = carry + data
                    whole = len(data) - len(data) % SAMPLE_WIDTH_BYTES
                    carry = data[whole:]
                    if whole:
                        yield PcmAudio(data[:whole], PCM_RATE_HZ)

    async def aclose(self) -> None:
        await self._client.close()
