"""The listening stage: VAD endpointing, wake-word gating, partial transcripts and a speculative final."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from voxhub.audio.pcm import PcmAudio
from voxhub.audio.resample import StreamResampler
from voxhub.engines.stt.base import SttEngine
from voxhub.engines.stt.scheduler import SttScheduler
from voxhub.engines.turn.base import TurnEngine
from voxhub.engines.vad.base import VadEngine
from voxhub.engines.vad.segmenter import (
    FrameChunker,
    SpeechCancelled,
    SpeechEnded,
    SpeechSegmenter,
    SpeechStarted,
)
from voxhub.engines.wake.base import WakeEngine
from voxhub.errors import VoxhubError
from voxhub.log_context import bind_log_context
from voxhub.pipeline.endpoint import PauseJudge
from voxhub.pipeline.frames import (
    AudioClearFrame,
    AudioEndFrame,
    AudioInFrame,
    ErrorFrame,
    Frame,
    RetractFrame,
    SpeechOnsetFrame,
    SpeechStartedFrame,
    SpeechStoppedFrame,
    TentativeTranscriptFrame,
    TranscriptFrame,
    WakeWordFrame,
)
from voxhub.pipeline.listening import (
    RATE_HZ,
    Activation,
    Decode,
    Ears,
    HeardAudio,
    ListeningOptions,
    wake_phrase_pattern,
)
from voxhub.pipeline.stage import Push, Stage
from voxhub.pipeline.timing import TurnTimings
from voxhub.pipeline.turns import Turns, TurnState

_log = logging.getLogger(__name__)
_ONSET_AFTER_QUIET_FRAMES = 8  # ~250 ms of quiet before a speech frame makes it an onset
__all__ = ["RATE_HZ", "Activation", "ListenerStage", "ListeningOptions"]


class ListenerStage(Stage):
    """Turns session audio into speech events and transcripts; passes every other frame on."""

    name = "listener"

    def __init__(
        self,
        vad: VadEngine,
        stt: SttEngine,
        wake: WakeEngine | None,
        options: ListeningOptions,
        *,
        new_turn_id: Callable[[], str],
        input_rate_hz: int = RATE_HZ,
        timings: TurnTimings | None = None,
        turns: Turns | None = None,
        turn_engine: TurnEngine | None = None,
    ) -> None:
        self.options = options
        self._judge = PauseJudge(turn_engine, 1000 * options.stop_secs, self._emit_now)
        self._turns = turns if turns is not None else Turns()
        self._stt = stt
        self._new_turn_id = new_turn_id
        self._timings = timings
        self._resampler = StreamResampler(input_rate_hz, RATE_HZ)
        self._vad_engine = vad
        self._wake_engine = wake if options.activation == "wake_word" else None
        self._ears: Ears | None = None  # made on the first audio: a text-only session never pays for them
        self._wake_pattern = wake_phrase_pattern(options.wake_words)
        self._frame_ms = vad.capabilities.frame_ms
        self._heard = HeardAudio()
        self._push: Push | None = None
        self._turn_id: str | None = None  # the utterance being heard, once accepted
        self._utterance_start_ms = 0.0
        self._segment_start_ms: float | None = None  # an open VAD segment, accepted or not
        self._listening_until_ms = -1.0  # wake-word sessions: accept speech starting before this
        self._silent_frames = 0
        self._partial: asyncio.Task[None] | None = None
        self._partial_at_ms = 0.0
        self._speculative: Decode | None = None
        self._heard_language: str | None = None  # the last decode's language (Whisper's guess with `auto`)
        self._finals: set[asyncio.Task[None]] = set()
        self._outbox: list[Frame] = []  # events found while hearing a chunk, pushed after it

    def prepare(self) -> None:
        """Make the VAD and wake state now (blocking, ~30 ms for Silero): call it from a worker thread."""
        if self._ears is None:
            self._open_ears()

    def _open_ears(self) -> Ears:
        vad = self._vad_engine.create_stream(RATE_HZ, self.options.vad_threshold)
        options = self.options
        segmenter = SpeechSegmenter(
            1000 * vad.frame_samples / RATE_HZ,
            start_secs=options.start_secs,
            stop_secs=self._judge.longest_ms / 1000,  # a turn engine may end the segment sooner
            min_speech_secs=options.min_speech_secs,
            max_utterance_secs=options.max_utterance_secs,
            hangover_frames=vad.hangover_frames,
        )
        wake = (
            self._wake_engine.create_stream(options.wake_words or None, options.wake_sensitivity)
            if self._wake_engine
            else None
        )
        self._frame_ms = 1000 * vad.frame_samples / RATE_HZ
        self._ears = Ears(vad, FrameChunker(vad.frame_samples), segmenter, wake)
        return self._ears

    async def start(self, push: Push) -> None:
        self._push = push

    async def stop(self) -> None:
        self._judge.cancel()
        for task in (self._partial, self._speculative.task if self._speculative else None, *self._finals):
            if task is not None:
                task.cancel()

    async def process(self, frame: Frame, push: Push) -> None:
        if isinstance(frame, AudioInFrame):
            self._hear(self._resampler.push(frame.pcm_s16le))
        elif isinstance(frame, AudioEndFrame):
            self._end_of_audio()
        elif isinstance(frame, AudioClearFrame):
            self._clear()
        else:
            await push(frame)
        while self._outbox:
            await push(self._outbox.pop(0))

    # -- per frame: the hot path ---------------------------------------------------------------------

    def _hear(self, pcm: bytes) -> None:
        chunk_start_ms = self._heard.position_ms
        self._heard.append(pcm)
        if self.options.activation == "push_to_talk":
            if self._turn_id is None and pcm:
                self._accept(chunk_start_ms)
            self._maybe_partial()
            return
        ears = self._ears or self._open_ears()
        if ears.wake is not None and self._turn_id is None:
            detection = ears.wake.process(pcm)
            if detection is not None:
                self._on_wake(detection.wake_word, detection.confidence, detection.timestamp_ms)
        for vad_frame in ears.frames.frames(pcm):
            speech = ears.vad.is_speech(vad_frame)
            onset = (
                speech and self._silent_frames >= _ONSET_AFTER_QUIET_FRAMES and not ears.segmenter.speaking
            )
            if onset and (
                self.options.activation == "vad" or self._heard.position_ms <= self._listening_until_ms
            ):
                self._emit(SpeechOnsetFrame(self._heard.position_ms))
            for event in ears.segmenter.push(speech):
                self._on_segment_event(event)
            self._track_pause(speech)
        self._maybe_partial()
        self._trim()

    def _track_pause(self, speech: bool) -> None:
        if speech:
            self._silent_frames = 0
            self._judge.cancel()
            if self._speculative is not None:
                self._drop_speculation()  # speech resumed: that guess was early
            return
        self._silent_frames += 1
        paused_ms = self._silent_frames * self._frame_ms
        segmenter = self._ears.segmenter if self._ears else None
        if self._turn_id is None or segmenter is None or not segmenter.speaking:
            return
        if self._speculative is not None:
            if self._judge.active and paused_ms >= self._judge.needed_ms():
                for event in segmenter.end_now():  # the turn engine ended it before the VAD's window
                    self._on_segment_event(event)
            return
        if paused_ms >= self.options.speculate_after_ms:
            if self._partial is not None and not self._partial.done():
                self._partial.cancel()  # the speculative final supersedes it; do not make it wait
            end_ms = segmenter.position_ms - paused_ms
            task = asyncio.create_task(self._speculate(end_ms, self._turn_id))
            self._speculative = Decode(task, end_ms)
            turn = self._turns.open_turn(self._turn_id)
            if turn is not None and self._judge.active:
                since_ms = max(
                    self._utterance_start_ms, self._heard.position_ms - 8000.0
                )  # all smart-turn hears
                audio = self._heard.clip(since_ms, self._heard.position_ms)
                self._judge.ask(turn, audio, task, self.options.language)

    def _on_segment_event(self, event: SpeechStarted | SpeechEnded | SpeechCancelled) -> None:
        if isinstance(event, SpeechStarted):
            self._segment_start_ms = event.start_ms
            if self.options.activation == "vad" or event.start_ms <= self._listening_until_ms:
                self._accept(event.start_ms)
            return
        self._segment_start_ms = None
        if self._turn_id is None:
            return
        self._emit(SpeechStoppedFrame(event.end_ms, self._heard.position_ms - event.end_ms))
        if isinstance(event, SpeechCancelled):
            self._drop_utterance()
        else:
            self._finish_utterance(event.end_ms)

    def _on_wake(self, wake_word: str, confidence: float, timestamp_ms: float) -> None:
        self._emit(WakeWordFrame(wake_word, confidence, timestamp_ms))
        self._listening_until_ms = timestamp_ms + 1000 * self.options.follow_up_secs
        if self._segment_start_ms is not None:
            self._accept(self._segment_start_ms)  # "hey jarvis, turn on the light" in one breath

    def _accept(self, start_ms: float) -> None:
        self._turn_id = self._turns.listen(self._new_turn_id()).turn_id
        self._utterance_start_ms = max(start_ms, self._heard.origin_ms)
        self._partial_at_ms = self._heard.position_ms
        self._emit(SpeechStartedFrame(start_ms))

    def _end_of_audio(self) -> None:
        if self._turn_id is None:
            return
        if self.options.activation != "push_to_talk":
            if self._ears is not None:
                self._ears.segmenter.reset()
            self._segment_start_ms = None
        self._emit(SpeechStoppedFrame(self._heard.position_ms))
        self._finish_utterance(self._heard.position_ms)

    def _clear(self) -> None:
        """Forget the utterance being heard and the audio held for it; finals already decoding go on."""
        if self._speculative is not None:
            self._drop_speculation()  # retracts an answer started on its guess
        if self._partial is not None:
            self._partial.cancel()
            self._partial = None
        if self._ears is not None:
            self._ears.segmenter.reset()
        self._forget(self._turn_id)
        self._turn_id = self._segment_start_ms = None
        self._heard.clear()

    # -- decoding --------------------------------------------------------------------------------------

    def _maybe_partial(self) -> None:
        if not self.options.partials or self._turn_id is None:
            return
        if self._partial is not None and not self._partial.done():
            return
        if self._speculative is not None:
            return  # in a pause with the final already decoding: a partial would only queue ahead of it
        if self._heard.position_ms - self._partial_at_ms < self.options.partial_interval_ms:
            return
        self._partial_at_ms = self._heard.position_ms
        self._partial = asyncio.create_task(self._send_partial(self._turn_id))

    async def _send_partial(self, turn_id: str) -> None:
        with contextlib.suppress(VoxhubError):
            if isinstance(self._stt, SttScheduler):
                # Best-effort: decoded when a lane is free and no final waits, on the audio heard by then.
                partial = await self._stt.transcribe_partial(
                    lambda: self._utterance_audio(self._heard.position_ms),
                    stream=self,
                    language=self.options.language,
                )
                text = partial.text.strip() if partial is not None else ""
                if partial is not None:
                    self._heard_language = partial.language
            else:
                text = await self._decode(self._heard.position_ms)
            if text and self._turn_id == turn_id:
                await self._emit_now(
                    TranscriptFrame(text, False, turn_id, self._heard_language or self.options.language)
                )

    def _finish_utterance(self, end_ms: float) -> None:
        assert self._turn_id is not None
        turn_id, self._turn_id = self._turn_id, None
        self._judge.ended(self._turns.open_turn(turn_id), self._silent_frames * self._frame_ms)
        if self._partial is not None:
            self._partial.cancel()
            self._partial = None
        speculative = self._speculative
        if speculative is not None and abs(speculative.end_ms - end_ms) > 2 * self._frame_ms:
            self._drop_speculation()
            speculative = None
        self._speculative = None
        decode = speculative.task if speculative else asyncio.create_task(self._decode(end_ms))
        self._listening_until_ms = end_ms + 1000 * self.options.follow_up_secs
        task = asyncio.create_task(self._send_final(turn_id, decode, time.perf_counter()))
        self._finals.add(task)
        task.add_done_callback(self._finals.discard)

    async def _speculate(self, end_ms: float, turn_id: str) -> str:
        """Decode up to the pause; if it is still the live guess, let the answer start on it."""
        text = self._strip_wake_phrase(await self._decode(end_ms))
        current = self._speculative
        if text and self._turn_id == turn_id and current is not None and current.end_ms == end_ms:
            current.tentative_sent = True
            await self._emit_now(TentativeTranscriptFrame(text, turn_id, self._heard_language))
        return text

    def _drop_speculation(self) -> None:
        assert self._speculative is not None
        self._speculative.task.cancel()
        if self._speculative.tentative_sent and self._turn_id is not None:
            self._emit(RetractFrame(self._turn_id))
            # The utterance goes on under a new id: everything of the voided answer stays void.
            self._turn_id = self._turns.listen(self._new_turn_id()).turn_id
        self._speculative = None

    def _strip_wake_phrase(self, text: str) -> str:
        return self._wake_pattern.sub("", text).strip() if self._wake_engine is not None else text

    async def _send_final(self, turn_id: str, decode: asyncio.Task[str], endpoint_at: float) -> None:
        bind_log_context(turn_id=turn_id)
        try:
            text = await decode
        except VoxhubError as exc:
            self._forget(turn_id)
            await self._emit_now(ErrorFrame(exc.code, exc.message, exc.details, turn_id))
            return
        except (
            Exception
        ) as exc:  # an engine's bug: the utterance is lost, the user is told, listening goes on
            _log.exception("transcribing %s failed", turn_id)
            self._forget(turn_id)
            message = "speech recognition failed: " + type(exc).__name__
            await self._emit_now(ErrorFrame("stt_error", message, {}, turn_id))
            return
        if self._timings is not None:
            self._timings.stt_final(time.perf_counter() - endpoint_at)
        text = self._strip_wake_phrase(text)
        # Sent even when empty, so a client knows the utterance was heard as nothing.
        await self._emit_now(
            TranscriptFrame(text, True, turn_id, self._heard_language or self.options.language)
        )

    def _utterance_audio(self, end_ms: float) -> PcmAudio:
        """The utterance heard so far up to `end_ms`, with the decode padding on each side."""
        padding = self.options.decode_padding_ms
        return self._heard.clip(self._utterance_start_ms - padding, end_ms + padding)

    async def _decode(self, end_ms: float) -> str:
        audio = self._utterance_audio(end_ms)
        if audio.sample_count < RATE_HZ // 10:
            return ""
        transcript = await self._stt.transcribe(audio, language=self.options.language)
        self._heard_language = transcript.language  # with language `auto`, the one Whisper identified
        return transcript.text.strip()

    def _drop_utterance(self) -> None:
        if self._speculative is not None:
            self._drop_speculation()
        self._forget(self._turn_id)
        self._turn_id = None
        if self._partial is not None:
            self._partial.cancel()
            self._partial = None

    def _trim(self) -> None:
        """Keep only the audio an utterance may still need: a little before any speech, all of it during."""
        if self._turn_id is not None or self._finals or self._speculative is not None:
            return
        keep_from = self._segment_start_ms if self._segment_start_ms is not None else self._heard.position_ms
        self._heard.keep_from(keep_from - 1000 * self.options.start_secs - 300.0)

    def _forget(self, turn_id: str | None) -> None:
        """The utterance `turn_id` will never be answered (noise, cleared, failed): it leaves the ledger."""
        turn = self._turns.open_turn(turn_id)
        if turn is not None and turn.state is TurnState.LISTENING:
            self._turns.drop(turn.turn_id)

    def _emit(self, frame: Frame) -> None:
        self._outbox.append(frame)

    async def _emit_now(self, frame: Frame) -> None:
        """From a decode task: push straight on."""
        assert self._push is not None
        await self._push(frame)
