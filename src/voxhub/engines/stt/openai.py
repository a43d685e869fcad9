"""The `openai` STT engine: `/v1/audio/transcriptions` of any OpenAI-compatible API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import openai

from voxhub.audio import PcmAudio, encode_wav, resample
from voxhub.engines.openai_service import api_key_of, make_client, require_base_url, service_errors
from voxhub.engines.stt.base import SttCapabilities, Transcript, TranscriptSegment
from voxhub.errors import AudioError
from voxhub.language import is_auto

if TYPE_CHECKING:
    from voxhub.config import Settings

_UPLOAD_RATE_HZ = 16000  # what Whisper-style models decode at; anything higher only makes the upload bigger
_SERVICE = "the OpenAI-compatible transcription service"


class OpenAiStt:
    """Send each utterance as a WAV file; segments come back when the server knows `verbose_json`."""

    name = "openai"

    def __init__(self, *, base_url: str, api_key: str | None, model: str, timeout_secs: float = 30.0) -> None:
        self._client = make_client(base_url, api_key, timeout_secs)
        self._base_url = base_url
        self._api_key = api_key
        self._model = model
        # Off for good once the server rejects verbose_json but takes plain JSON: then one request, not two.
        self._verbose = True
        self.capabilities = SttCapabilities(
            model=model, sample_rate_hz=_UPLOAD_RATE_HZ, languages=(), streaming=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            base_url=require_base_url(settings),
            api_key=api_key_of(settings),
            model=settings.openai_stt_model,
            timeout_secs=settings.openai_timeout_secs,
        )

    async def warm_up(self) -> None:
        """Nothing to load; a remote service is checked by the first request, not at start-up."""

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        """Transcribe one utterance; raises AudioError on empty audio, EngineError when the service fails."""
        if audio.sample_count == 0:
            raise AudioError("audio to transcribe is empty")
        if is_auto(language):
            language = None  # the service identifies it, and says which in verbose JSON
        wav = encode_wav(resample(audio, _UPLOAD_RATE_HZ))
        options: dict[str, Any] = {"model": self._model, "file": ("speech.wav", wav, "audio/wav")}
        if language:
            options["language"] = language
        if prompt:
            options["prompt"] = prompt
        with service_errors(_SERVICE, self._base_url, self._api_key):
            if self._verbose:
                try:
                    verbose = await self._client.audio.transcriptions.create(
                        **options, response_format="verbose_json"
                    )
                except (openai.BadRequestError, openai.UnprocessableEntityError):
                    pass  # perhaps verbose_json is unknown there; plain JSON tells
                else:
                    segments = tuple(
                        TranscriptSegment(segment.text.strip(), 1000.0 * segment.start, 1000.0 * segment.end)
                        for segment in getattr(verbose, "segments", None) or ()
                    )
                    # OpenAI names the language ("english"); other servers give a code. Either is passed on.
                    detected = getattr(verbose, "language", None)
                    return Transcript(verbose.text.strip(), language or detected, audio.duration_ms, segments)
            plain = await self._client.audio.transcriptions.create(**options, response_format="json")
            self._verbose = False  # plain JSON worked where verbose_json did not
        return Transcript(plain.text.strip(), language, audio.duration_ms)

    async def aclose(self) -> None:
        await self._client.close()
