"""tts: `synthesize` → one audio stream; `synthesize-start`/`-chunk`/`-stop` → audio per sentence."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.tts import SynthesizeStopped, SynthesizeVoice

from voxhub.audio import PcmAudio, resample
from voxhub.engines.tts.base import TtsEngine
from voxhub.pipeline.sentences import SentenceSplitter

Write = Callable[[Event], Awaitable[None]]
SAMPLES_PER_CHUNK = 1024  # as Wyoming's own servers send: about 45 ms at 22 kHz
_WIDTH, _CHANNELS = 2, 1


class Speech:
    """Speaks texts as audio streams that all keep the rate of the first one (one format per request)."""

    def __init__(self, engine: TtsEngine, write: Write, voice: SynthesizeVoice | None) -> None:
        self._engine = engine
        self._write = write
        self._voice = voice.name if voice is not None else None
        self._language = voice.language if voice is not None else None
        self.rate_hz: int | None = None

    async def say(self, text: str) -> None:
        """`audio-start`, the audio of `text` in chunks, `audio-stop`."""
        started = False
        async for piece in self._engine.synthesize(text, voice=self._voice, language=self._language):
            if self.rate_hz is None:
                self.rate_hz = piece.sample_rate_hz
            if piece.sample_rate_hz != self.rate_hz:
                piece = resample(piece, self.rate_hz)
            if not started:
                started = True
                await self._write(AudioStart(self.rate_hz, _WIDTH, _CHANNELS).event())
            await self._send_chunks(piece)
        if not started:  # a client waits for `audio-stop` even when there was nothing to say
            self.rate_hz = self.rate_hz or self._engine.capabilities.sample_rate_hz
            await self._write(AudioStart(self.rate_hz, _WIDTH, _CHANNELS).event())
        await self._write(AudioStop().event())

    async def _send_chunks(self, audio: PcmAudio) -> None:
        step = SAMPLES_PER_CHUNK * _WIDTH
        pcm = audio.pcm_s16le
        for offset in range(0, len(pcm), step):
            chunk = AudioChunk(audio.sample_rate_hz, _WIDTH, _CHANNELS, pcm[offset : offset + step])
            await self._write(chunk.event())


class StreamingSpeech:
    """A `synthesize-start` … `synthesize-stop` stream: each sentence is spoken once its text is complete."""

    def __init__(self, speech: Speech) -> None:
        self._speech = speech
        self._splitter = SentenceSplitter()

    async def add(self, text: str) -> None:
        for sentence in self._splitter.push(text):
            await self._speech.say(sentence)

    async def stop(self, write: Write) -> None:
        for rest in self._splitter.flush():
            await self._speech.say(rest)
        await write(SynthesizeStopped().event())
