"""The speaking stage: TTS for each sentence, cut into short pieces that know which words they carry."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass

from voxhub.engines.tts.base import TtsEngine
from voxhub.errors import VoxhubError
from voxhub.pipeline.frames import (
    AudioOutEndFrame,
    AudioOutFrame,
    AudioStartFrame,
    ErrorFrame,
    Frame,
    InterruptFrame,
    SentenceFrame,
    TurnDoneFrame,
)
from voxhub.pipeline.stage import Push, Stage
from voxhub.pipeline.timing import TurnTimings

PIECE_MS = 40  # pacing granularity downstream: a barge-in can stop audio within one piece


@dataclass(frozen=True, slots=True)
class VoiceOptions:
    voice: str | None = None
    language: str | None = None
    speed: float | None = None


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
                    await push(AudioOutEndFrame(job.turn_id))
                await push(job)
                continue
            await self._speak(job, push)

    async def _speak(self, sentence: SentenceFrame, push: Push) -> None:
        started = time.perf_counter()
        words = sentence.text.split()
        try:
            async for audio in self.tts.synthesize(
                sentence.text,
                voice=self.options.voice,
                language=self.options.language,
                speed=self.options.speed,
            ):
                if sentence.turn_id not in self._started_turns:
                    self._started_turns.add(sentence.turn_id)
                    self._timings.tts_first_audio(sentence.turn_id, time.perf_counter() - started)
                    await push(AudioStartFrame(sentence.turn_id, audio.sample_rate_hz))
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
