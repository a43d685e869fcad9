"""The speaking stage: TTS for each sentence, cut into short pieces that know which words they carry."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from voxhub.audio import PcmAudio
from voxhub.engines.tts.base import TtsEngine
from voxhub.errors import VoxhubError
from voxhub.pipeline.frames import (
    AudioOutEndFrame,
    AudioOutFrame,
    AudioStartFrame,
    ErrorFrame,
    Frame,
    InterruptFrame,
    NoticeFrame,
    SentenceFrame,
    TurnDoneFrame,
)
from voxhub.pipeline.stage import Push, Stage
from voxhub.pipeline.timing import TurnTimings
from voxhub.pipeline.visemes import Viseme, marked_visemes, text_visemes, track_dicts

PIECE_MS = 40  # pacing granularity downstream: a barge-in can stop audio within one piece


@dataclass(frozen=True, slots=True)
class VoiceOptions:
    voice: str | None = None
    language: str | None = None
    speed: float | None = None
    speakable: Callable[[str], str] | None = None  # rewrites a sentence for the ear ("21°C" → words)
    avatar: bool = False  # send `viseme` notices (mouth shapes timed to the audio) for an animated face


class SpeakerStage(Stage):
    """Synthesizes sentences in a worker task, so an interrupt is handled while synthesis runs."""

    name = "speaker"

    def __init__(self, tts: TtsEngine, options: VoiceOptions, *, timings: TurnTimings | None = None) -> None:
        self.tts = tts
        self.options = options
        self._timings = timings or TurnTimings()
        self._jobs: deque[SentenceFrame | TurnDoneFrame] = deque()
        self._has_jobs = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._push: Push | None = None
        self._started_turns: set[str] = set()
        self._cancelled: set[str] = set()
        self._audio_ms: dict[str, float] = {}  # per turn: audio made so far, where the next visemes start

    async def start(self, push: Push) -> None:
        self._push = push
        self._worker = asyncio.create_task(self._work(), name="voxhub-speaker")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def process(self, frame: Frame, push: Push) -> None:
        if isinstance(frame, SentenceFrame | TurnDoneFrame):
            if frame.turn_id not in self._cancelled:
                self._jobs.append(frame)
                self._has_jobs.set()
        elif isinstance(frame, InterruptFrame):
            await self._cancel(frame.turn_id)
            await push(frame)
        elif self.forward_now is not None:
            self.forward_now(frame)  # events overtake queued audio; waiting here would also delay interrupts
        else:
            await push(frame)

    async def _cancel(self, turn_id: str) -> None:
        self._cancelled.add(turn_id)
        kept = [job for job in self._jobs if job.turn_id != turn_id]
        self._jobs.clear()
        self._jobs.extend(kept)
        if self._worker is not None:  # it may be mid-sentence of that turn: restart it
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = asyncio.create_task(self._work(), name="voxhub-speaker")

    async def _work(self) -> None:
        assert self._push is not None
        push = self._push
        while True:
            while not self._jobs:
                self._has_jobs.clear()
                await self._has_jobs.wait()
            job = self._jobs.popleft()
            if job.turn_id in self._cancelled:
                continue
            if isinstance(job, TurnDoneFrame):
                if job.turn_id in self._started_turns:
                    self._started_turns.discard(job.turn_id)
                    self._audio_ms.pop(job.turn_id, None)
                    await push(AudioOutEndFrame(job.turn_id))
                await push(job)
                continue
            await self._speak(job, push)

    async def _speak(self, sentence: SentenceFrame, push: Push) -> None:
        started = time.perf_counter()
        words = sentence.text.split()
        spoken = self.options.speakable(sentence.text) if self.options.speakable else sentence.text
        if not spoken.strip():
            return  # nothing to say aloud (an emoji, a bare link)
        try:
            async for audio, visemes in self._synthesize(spoken):
                if sentence.turn_id not in self._started_turns:
                    self._started_turns.add(sentence.turn_id)
                    self._timings.tts_first_audio(sentence.turn_id, time.perf_counter() - started)
                    await push(AudioStartFrame(sentence.turn_id, audio.sample_rate_hz))
                if visemes is not None:
                    offset_ms = self._audio_ms.get(sentence.turn_id, 0.0)
                    self._audio_ms[sentence.turn_id] = offset_ms + audio.duration_ms
                    data = {"visemes": track_dicts(visemes, offset_ms)}
                    await push(NoticeFrame("viseme", data, sentence.turn_id))
                piece = audio.sample_rate_hz * PIECE_MS // 1000 * 2
                total = len(audio.pcm_s16le)
                for offset in range(0, total, piece):
                    # Words are spread over the audio in proportion, to know roughly what was heard.
                    first, last = (
                        len(words) * offset // total,
                        len(words) * min(offset + piece, total) // total,
                    )
                    await push(
                        AudioOutFrame(
                            audio.pcm_s16le[offset : offset + piece],
                            audio.sample_rate_hz,
                            sentence.turn_id,
                            " ".join(words[first:last]),
                        )
                    )
                words = []  # a sentence that comes in several chunks: its words went with the first
        except VoxhubError as exc:
            await push(ErrorFrame(exc.code, exc.message, exc.details, sentence.turn_id))

    async def _synthesize(self, text: str) -> AsyncIterator[tuple[PcmAudio, list[Viseme] | None]]:
        """The speech for `text`, chunk by chunk, with its visemes when the avatar is on (else None):
        espeak-ng's own phoneme timing where the engine reports it, else the spelling spread over the audio."""
        options = self.options
        marked = getattr(self.tts, "synthesize_marked", None) if options.avatar else None
        if marked is not None:
            async for speech in marked(
                text, voice=options.voice, language=options.language, speed=options.speed
            ):
                phonemes = [(m.audio_ms, m.phoneme) for m in speech.marks if m.kind == "phoneme"]
                yield speech.audio, marked_visemes(phonemes, speech.audio.duration_ms)
            return
        async for audio in self.tts.synthesize(
            text, voice=options.voice, language=options.language, speed=options.speed
        ):
            yield audio, text_visemes(text, audio.duration_ms) if options.avatar else None
