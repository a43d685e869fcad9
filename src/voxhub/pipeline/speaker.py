"""The speaking stage: TTS for each sentence, cut into short pieces that know which words they carry."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from voxhub.audio import PcmAudio
from voxhub.engines.tts.base import TtsEngine
from voxhub.errors import VoxhubError
from voxhub.language import language_code
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
from voxhub.pipeline.turns import Turn, Turns
from voxhub.pipeline.visemes import Viseme, marked_visemes, text_visemes, track_dicts

_log = logging.getLogger(__name__)
PIECE_MS = 40  # pacing granularity downstream: a barge-in can stop audio within one piece


@dataclass(frozen=True, slots=True)
class VoiceOptions:
    voice: str | None = None
    language: str | None = None
    speed: float | None = None
    # Rewrites a sentence for the ear ("21°C" → words), in a language (None: the session's).
    speakable: Callable[[str, str | None], str] | None = None
    avatar: bool = False  # send `viseme` notices (mouth shapes timed to the audio) for an animated face


class SpeakerStage(Stage):
    """Synthesizes sentences in a worker task, so an interrupt is handled while synthesis runs."""

    name = "speaker"

    def __init__(
        self,
        tts: TtsEngine,
        options: VoiceOptions,
        *,
        turns: Turns | None = None,
        timings: TurnTimings | None = None,
        other_languages: TtsEngine | None = None,
    ) -> None:
        self.tts = tts
        self.other_languages = other_languages  # speaks an answer in a language `tts` does not
        self.options = options
        self.turns = turns if turns is not None else Turns()
        self._timings = timings or TurnTimings()
        self._jobs: deque[SentenceFrame | TurnDoneFrame] = deque()
        self._has_jobs = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._push: Push | None = None

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
            turn = self.turns.open_turn(frame.turn_id)
            if turn is not None and not turn.stopping:
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
        kept = [job for job in self._jobs if job.turn_id != turn_id]
        self._jobs.clear()
        self._jobs.extend(kept)
        if self.inbox is not None:  # sentences of the turn still queued here go too
            self.inbox.drop(lambda queued: getattr(queued, "turn_id", None) == turn_id)
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
            turn = self.turns.open_turn(job.turn_id)
            if turn is None or turn.stopping:
                continue
            if isinstance(job, TurnDoneFrame):
                if turn.audio_started:
                    await push(AudioOutEndFrame(job.turn_id))
                await push(job)
                continue
            try:
                await self._speak(turn, job, push)
            except VoxhubError as exc:
                await push(ErrorFrame(exc.code, exc.message, exc.details, job.turn_id))
            except Exception as exc:  # a TTS bug: this sentence is lost, the turn and the speaker go on
                _log.exception("speaking a sentence of %s failed", job.turn_id)
                message = "speech synthesis failed: " + type(exc).__name__
                await push(ErrorFrame("tts_error", message, {}, job.turn_id))

    async def _speak(self, turn: Turn, sentence: SentenceFrame, push: Push) -> None:
        started = self.turns.now()
        words = sentence.text.split()
        language = self._language(turn)
        speakable = self.options.speakable
        spoken = speakable(sentence.text, language) if speakable else sentence.text
        if not spoken.strip():
            return  # nothing to say aloud (an emoji, a bare link)
        async for audio, visemes in self._synthesize(spoken, language):
            if not turn.audio_started:
                turn.audio_started = True
                self._timings.tts_first_audio(turn, self.turns.now() - started)
                await push(AudioStartFrame(sentence.turn_id, audio.sample_rate_hz))
            if visemes is not None:
                data = {"visemes": track_dicts(visemes, turn.audio_made_ms)}
                await push(NoticeFrame("viseme", data, sentence.turn_id))
            turn.audio_made_ms += audio.duration_ms
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

    def _language(self, turn: Turn) -> str | None:
        """The turn's language (the one heard) if it is not the session's, else None (so also for a session
        that names no language)."""
        if turn.language is None or self.options.language is None:
            return None
        return None if language_code(turn.language) == language_code(self.options.language) else turn.language

    def _voice_for(self, language: str | None) -> tuple[TtsEngine, str | None, str | None]:
        """(engine, voice, language) for an answer in `language` (None: the session's voice and language).
        Another language gets that language's voice, from the other engine if `tts` does not speak it."""
        options = self.options
        if language is None:
            return self.tts, options.voice, options.language
        spoken = {language_code(tag) for tag in self.tts.capabilities.languages}
        if spoken and language_code(language) not in spoken and self.other_languages is not None:
            return self.other_languages, None, language
        return self.tts, None, language

    async def _synthesize(
        self, text: str, language: str | None = None
    ) -> AsyncIterator[tuple[PcmAudio, list[Viseme] | None]]:
        """The speech for `text`, chunk by chunk, with its visemes when the avatar is on (else None):
        espeak-ng's own phoneme timing where the engine reports it, else the spelling spread over the audio."""
        options = self.options
        tts, voice, language = self._voice_for(language)
        marked = getattr(tts, "synthesize_marked", None) if options.avatar else None
        if marked is not None:
            async for speech in marked(text, voice=voice, language=language, speed=options.speed):
                phonemes = [(m.audio_ms, m.phoneme) for m in speech.marks if m.kind == "phoneme"]
                yield speech.audio, marked_visemes(phonemes, speech.audio.duration_ms)
            return
        async for audio in tts.synthesize(text, voice=voice, language=language, speed=options.speed):
            yield audio, text_visemes(text, audio.duration_ms) if options.avatar else None
