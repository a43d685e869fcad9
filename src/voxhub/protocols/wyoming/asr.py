"""asr: `transcribe` + audio in; `transcript-start`/`-chunk` while it arrives, then `transcript`, `-stop`."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable

from wyoming.asr import Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.event import Event

from voxhub.audio import PcmAudio
from voxhub.engines.stt.base import SttEngine, transcribe_stream
from voxhub.engines.stt.base import Transcript as SttTranscript
from voxhub.errors import AudioError, PayloadTooLargeError

Write = Callable[[Event], Awaitable[None]]
PARTIAL_INTERVAL_MS = 400.0


class Transcription:
    """One utterance: audio is decoded in a background task, so reading the next chunks never waits on it."""

    def __init__(self, engine: SttEngine, write: Write, *, language: str | None, max_bytes: int) -> None:
        self._engine = engine
        self._write = write
        self._language = language
        self._max_bytes = max_bytes
        self._received_bytes = 0
        self._queue: asyncio.Queue[PcmAudio | None] = asyncio.Queue()
        self._started = False
        self._sent_words: list[str] = []
        self._task = asyncio.create_task(self._run(), name="wyoming-transcription")

    def push(self, audio: PcmAudio) -> None:
        self._received_bytes += len(audio.pcm_s16le)
        if self._received_bytes > self._max_bytes:
            raise PayloadTooLargeError(
                f"the utterance is over the {self._max_bytes} byte audio limit",
                details={"limit_bytes": self._max_bytes},
            )
        if audio.pcm_s16le:
            self._queue.put_nowait(audio)

    async def finish(self) -> None:
        """The audio is over: send the final transcript (raises what the decoding raised)."""
        self._queue.put_nowait(None)
        await self._task

    async def cancel(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def _chunks(self) -> AsyncIterator[PcmAudio]:
        """The audio as it comes; whatever queued up while a partial was decoding is joined into one
        chunk, so a client sending faster than real time gets fewer partials, not a growing lag."""
        while True:
            first = await self._queue.get()
            if first is None:
                return
            parts = [first.pcm_s16le]
            ended = False
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    ended = True
                    break
                parts.append(more.pcm_s16le)
            yield PcmAudio(b"".join(parts), first.sample_rate_hz)
            if ended:
                return

    async def _run(self) -> None:
        final: SttTranscript | None = None
        try:
            async for transcript in transcribe_stream(
                self._engine, self._chunks(), language=self._language, partial_interval_ms=PARTIAL_INTERVAL_MS
            ):
                if transcript.is_final:
                    final = transcript
                else:
                    await self._send_new_words(transcript.text, final=False)
        except AudioError:
            # Nothing (or nothing decodable) was said: older clients expect an empty transcript, not an error.
            final = None
        text = final.text.strip() if final is not None else ""
        language = final.language if final is not None else self._language
        await self._send_new_words(text, final=True)
        await self._write(Transcript(text=text, language=language).event())
        await self._write(TranscriptStop().event())

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
