"""The `wyoming` STT engine: another box's Wyoming `asr` server (voxhub, wyoming-faster-whisper, ...)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Self

from wyoming.asr import Transcribe, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.asr import Transcript as WyomingTranscript
from wyoming.audio import AudioChunk, AudioStart, AudioStop

from voxhub.audio import PcmAudio
from voxhub.engines.stt.base import SttCapabilities, Transcript
from voxhub.engines.wyoming_remote import Connection, RemoteClient, remote_address
from voxhub.errors import AudioError

if TYPE_CHECKING:
    from voxhub.config import Settings

_CHUNK_BYTES = 2048 * 2  # 2048 samples per audio-chunk, as Home Assistant sends them


class WyomingStt:
    """One connection per utterance: `transcribe`, the audio, `audio-stop`, then the `transcript`.

    `stream` asks for `transcript-chunk` events too (context `{"streaming": true}`, voxhub's own way); a
    server that streams (voxhub, or one that announces `supports_transcript_streaming`) sends partials as
    the audio arrives, any other just its final transcript.
    """

    name = "wyoming"

    def __init__(self, client: RemoteClient, *, language: str | None = None) -> None:
        self._client = client
        self._language = language
        self.capabilities = SttCapabilities(
            model=f"wyoming {client.address.uri}", sample_rate_hz=16000, languages=(), streaming=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        address = remote_address(settings, "stt", "STT")
        return cls(
            RemoteClient(address, settings.wyoming_client_timeout_secs), language=settings.stt_language
        )

    async def warm_up(self) -> None:
        """Ask the server what it offers; one that is down now is an error at its first use, not here."""
        try:
            info = await self._client.describe()
        except Exception:
            return
        for program in info.asr:
            models = [model.name for model in program.models]
            languages = tuple(language for model in program.models for language in model.languages)
            self.capabilities = SttCapabilities(
                model=f"{program.name} {models[0] if models else ''} ({self._client.address.uri})".strip(),
                sample_rate_hz=16000,
                languages=languages,
                streaming=bool(getattr(program, "supports_transcript_streaming", False)),
            )
            return

    async def transcribe(
        self, audio: PcmAudio, *, language: str | None = None, prompt: str | None = None
    ) -> Transcript:
        """The server's transcript of one utterance; EngineError when it is down or fails."""
        if audio.sample_count == 0:
            raise AudioError("audio to transcribe is empty")
        final: Transcript | None = None
        async for transcript in self.stream(_once(audio), language=language, streaming=False):
            final = transcript
        assert final is not None
        return final

    async def stream(
        self, chunks: AsyncIterable[PcmAudio], *, language: str | None = None, streaming: bool = True
    ) -> AsyncIterator[Transcript]:
        """Send audio as it comes; yield partial transcripts (when the server streams), then the final."""
        language = language or self._language
        context = {"streaming": True} if streaming else None
        meter = _Meter()
        async with self._client.connected() as connection:
            await connection.write(Transcribe(language=language, context=context).event())
            sender = asyncio.ensure_future(_send(connection, chunks, meter))
            try:
                async for transcript in _answers(connection, sender, language, meter):
                    yield transcript
            finally:
                if not sender.done():
                    sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender

    async def aclose(self) -> None:
        """Nothing held between requests."""


class _Meter:
    """How much audio was sent, in ms."""

    duration_ms = 0.0


async def _send(connection: Connection, chunks: AsyncIterable[PcmAudio], meter: _Meter) -> None:
    rate, started = 16000, False
    async for chunk in chunks:
        if not started:
            rate, started = chunk.sample_rate_hz, True
            await connection.write(AudioStart(rate=rate, width=2, channels=1).event())
        meter.duration_ms += chunk.duration_ms
        for offset in range(0, len(chunk.pcm_s16le), _CHUNK_BYTES):
            piece = chunk.pcm_s16le[offset : offset + _CHUNK_BYTES]
            await connection.write(AudioChunk(rate=rate, width=2, channels=1, audio=piece).event())
    if not started:
        await connection.write(AudioStart(rate=rate, width=2, channels=1).event())
    await connection.write(AudioStop().event())


async def _answers(
    connection: Connection, sender: asyncio.Future[None], language: str | None, meter: _Meter
) -> AsyncIterator[Transcript]:
    """Partials from `transcript-chunk` events (their text accumulated), then the final `transcript`."""
    partial = ""
    while True:
        event = await connection.read(sender)
        if TranscriptStart.is_type(event.type):
            partial = ""
        elif TranscriptChunk.is_type(event.type):
            partial += TranscriptChunk.from_event(event).text
            yield Transcript(partial.strip(), language, meter.duration_ms, is_final=False)
        elif WyomingTranscript.is_type(event.type):
            final = WyomingTranscript.from_event(event)
            yield Transcript(final.text.strip(), final.language or language, meter.duration_ms)
            return
        elif TranscriptStop.is_type(event.type):
            continue


async def _once(audio: PcmAudio) -> AsyncIterator[PcmAudio]:
    yield audio
