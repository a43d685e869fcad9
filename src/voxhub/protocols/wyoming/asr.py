"""asr: `transcribe` + audio in; `transcript` out at audio-stop, with streamed chunks if the client asks.

Wyoming has no request field for streaming transcripts, so a client asks with `transcribe` context
`{"streaming": true}`: it then gets `transcript-start` and `transcript-chunk` events from partial decodes
while the audio arrives. Any other client (Home Assistant reads only `transcript`) gets no partial decodes at
all: its utterance costs one decode. The final decode starts at `audio-stop`, as a final in the shared STT
scheduler, so it never waits behind a partial (its own is dropped, other sessions' are overtaken).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from wyoming.asr import Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.event import Event

from voxhub.audio import PcmAudio
from voxhub.engines.stt.base import SttEngine
from voxhub.engines.stt.scheduler import SttScheduler
from voxhub.errors import AudioError, PayloadTooLargeError, VoxhubError

Write = Callable[[Event], Awaitable[None]]
Heard = Callable[[str, str | None, bool], None]  # text, language, is_final: for the event bus
PARTIAL_INTERVAL_MS = 400.0


def wants_streaming(context: dict[str, Any] | None) -> bool:
    """True if a `transcribe` event's context asks for streamed transcript chunks."""
    return bool(context and context.get("streaming") is True)


class Transcription:
    """One utterance: audio is buffered as it comes; partials (if asked for) decode in a background task."""

    def __init__(
        self,
        engine: SttEngine,
        write: Write,
        *,
        language: str | None,
        max_bytes: int,
        streaming: bool = False,
        heard: Heard | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._language = language
        self._max_bytes = max_bytes
        self._streaming = streaming
        self._heard = heard
        self._parts: list[bytes] = []
        self._rate = 16000
        self._received_bytes = 0
        self._buffered_ms = 0.0
        self._partial_at_ms = 0.0
        self._partial: asyncio.Task[None] | None = None
        self._finishing = False
        self._writing = asyncio.Lock()  # a partial's chunk is never cut off by the final
        self._started = False
        self._sent_words: list[str] = []

    def push(self, audio: PcmAudio) -> None:
        self._received_bytes += len(audio.pcm_s16le)
        if self._received_bytes > self._max_bytes:
            raise PayloadTooLargeError(
                f"the utterance is over the {self._max_bytes} byte audio limit",
                details={"limit_bytes": self._max_bytes},
            )
        if not audio.pcm_s16le:
            return
        self._rate = audio.sample_rate_hz
        self._parts.append(audio.pcm_s16le)
        self._buffered_ms += audio.duration_ms
        if not self._streaming or (self._partial is not None and not self._partial.done()):
            return
        if self._buffered_ms - self._partial_at_ms >= PARTIAL_INTERVAL_MS:
            self._partial_at_ms = self._buffered_ms
            self._partial = asyncio.create_task(self._send_partial(), name="wyoming-partial")

    async def finish(self) -> None:
        """The audio is over: decode it at once and send the final transcript."""
        self._finishing = True
        self._stop_partial()
        try:
            final = await self._engine.transcribe(self._audio(), language=self._language)
            text, language = final.text.strip(), final.language
        except AudioError:
            # Nothing (or nothing decodable) was said: older clients expect an empty transcript, not an error.
            text, language = "", self._language
        async with self._writing:
            if self._streaming:
                await self._send_new_words(text, final=True)
            await self._write(Transcript(text=text, language=language).event())
            if self._streaming:
                await self._write(TranscriptStop().event())
        if self._heard is not None:
            self._heard(text, language, True)

    async def cancel(self) -> None:
        self._finishing = True
        self._stop_partial()
        if self._partial is not None:
            self._partial.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._partial

    def _audio(self) -> PcmAudio:
        return PcmAudio(b"".join(self._parts), self._rate)

    def _stop_partial(self) -> None:
        """Drop the partial in flight unless it is writing its chunk (then the final waits for that write)."""
        if self._partial is not None and not self._partial.done() and not self._writing.locked():
            self._partial.cancel()

    async def _send_partial(self) -> None:
        with contextlib.suppress(VoxhubError):
            if isinstance(self._engine, SttScheduler):
                partial = await self._engine.transcribe_partial(
                    self._audio, stream=self, language=self._language
                )
                text = partial.text if partial is not None else ""
            else:
                text = (await self._engine.transcribe(self._audio(), language=self._language)).text
            if self._finishing or not text:
                return
            async with self._writing:
                await self._send_new_words(text.strip(), final=False)
            if self._heard is not None:
                self._heard(text.strip(), self._language, False)

    async def _send_new_words(self, text: str, *, final: bool) -> None:
        """Send the words beyond those already sent; a partial's last word may still change, so it waits."""
        if not self._started:
            self._started = True
            await self._write(TranscriptStart(language=self._language).event())
        words = text.split()
        if not final:
            words = words[:-1]
        sent = self._sent_words
        if [_plain(word) for word in words[: len(sent)]] != [_plain(word) for word in sent]:
            return  # the decoder revised words already sent; the final `transcript` has the true text
        new = words[len(sent) :]
        if new:
            self._sent_words = [*sent, *new]
            await self._write(TranscriptChunk(text=(" " if sent else "") + " ".join(new)).event())


def _plain(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())
