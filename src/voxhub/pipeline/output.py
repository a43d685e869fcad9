"""The last stage: paces audio to real time, tracks what was really sent, commits turns, hands frames out."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from voxhub.pipeline.frames import (
    RETRACTED,
    AudioOutFrame,
    ConfirmTurnFrame,
    Frame,
    HoldTurnFrame,
    InterruptFrame,
    ResponseDeltaFrame,
    ResponseFrame,
    SpeechOnsetFrame,
    SpeechStoppedFrame,
    TurnDoneFrame,
)
from voxhub.pipeline.memory import ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.stage import Push, Stage
from voxhub.pipeline.timing import TurnTimings

Send = Callable[[Frame], Awaitable[None]]


class OutputStage(Stage):
    """Sends at most `lead_ms` of audio ahead of real time, so a barge-in leaves little unheard audio out."""

    name = "output"

    def __init__(
        self,
        send: Send,
        memory: ConversationMemory,
        mode: ModeState,
        *,
        lead_ms: float = 300.0,
        hush_ms: float = 350.0,
        timings: TurnTimings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self.memory = memory
        self.mode = mode
        self._lead_secs = lead_ms / 1000
        self._hush_secs = hush_ms / 1000
        self._hush_until = 0.0  # after a speech onset, audio waits this long for the interrupt
        self._timings = timings or TurnTimings()
        self._clock = clock
        self._playout_end = 0.0  # when the audio sent so far finishes playing, on `clock`
        self._spoken: dict[str, list[str]] = {}  # turn → words of the audio sent
        self._written: dict[str, list[str]] = {}  # turn → text deltas sent
        self._dropped: set[str] = set()
        self._speech_stopped_at: float | None = None
        self._held: dict[str, list[Frame]] = {}  # tentative turns: their frames, until confirmed

    async def process(self, frame: Frame, push: Push) -> None:
        turn_id = getattr(frame, "turn_id", None)
        if turn_id in self._dropped and not isinstance(frame, InterruptFrame):
            return
        if turn_id is not None and isinstance(
            frame, AudioOutFrame if self.mode.voice_output else ResponseDeltaFrame
        ):
            self._timings.first_output_ready(turn_id, spoken=self.mode.voice_output)
        if isinstance(frame, HoldTurnFrame):
            self._held[frame.turn_id] = []
        elif isinstance(frame, ConfirmTurnFrame):
            assert self.inbox is not None
            for held in reversed(self._held.pop(frame.turn_id, [])):
                self.inbox.unget(held)  # back to the head of the queue, to go out paced as usual
        elif turn_id in self._held and not isinstance(frame, InterruptFrame):
            self._held[turn_id].append(frame)
        elif isinstance(frame, AudioOutFrame):
            if not await self._paced(frame):
                return
            if self._speech_stopped_at is not None:
                self._timings.end_of_speech_to_first_audio(time.perf_counter() - self._speech_stopped_at)
                self._speech_stopped_at = None
            await self._send(frame)
            if frame.spoken_text:
                self._spoken.setdefault(frame.turn_id, []).append(frame.spoken_text)
        elif isinstance(frame, ResponseDeltaFrame):
            await self._send(frame)
            self._written.setdefault(frame.turn_id, []).append(frame.text)
        elif isinstance(frame, TurnDoneFrame):
            self._forget(frame.turn_id)
            if await self.memory.settle(frame.turn_id, frame.text, interrupted=False):
                await self._send(ResponseFrame(frame.text, frame.turn_id))
                self._timings.turn_finished(frame.turn_id)
        elif isinstance(frame, InterruptFrame):
            await self._interrupted(frame)
        elif isinstance(frame, SpeechOnsetFrame):
            if self._playout_end > self._clock():  # only while an answer is playing
                self._hush_until = self._clock() + self._hush_secs
        else:
            if isinstance(frame, SpeechStoppedFrame):
                # Dated back to when the user stopped speaking (audio arrives in real time).
                self._speech_stopped_at = time.perf_counter() - frame.detected_after_ms / 1000
            await self._send(frame)

    async def _paced(self, frame: AudioOutFrame) -> bool:
        """Wait until the frame is due; False (and the frame put back) if an urgent frame came first."""
        now = self._clock()
        wait = max(self._playout_end - now - self._lead_secs, self._hush_until - now)
        assert self.inbox is not None
        if wait > 0 and await self.inbox.urgent_within(wait):
            self.inbox.unget(frame)
            return False
        duration = len(frame.pcm_s16le) / (2 * frame.sample_rate_hz)
        self._playout_end = max(self._playout_end, self._clock()) + duration
        return True

    async def _interrupted(self, frame: InterruptFrame) -> None:
        turn_id = frame.turn_id
        if turn_id in self._dropped:
            return  # that turn was stopped already
        self._dropped.add(turn_id)
        self._timings.forget(turn_id)
        assert self.inbox is not None
        self.inbox.drop(lambda queued: getattr(queued, "turn_id", None) == turn_id)
        if self._held.pop(turn_id, None) is not None or frame.reason == RETRACTED:
            self.memory.discard(turn_id)  # a tentative answer nobody saw: no trace, no event
            return
        self._playout_end = 0.0
        heard = self._spoken.get(turn_id) if self.mode.voice_output else self._written.get(turn_id)
        self._forget(turn_id)
        text = (" " if self.mode.voice_output else "").join(heard or []).strip()
        await self.memory.settle(turn_id, text, interrupted=True)
        await self._send(frame)

    def _forget(self, turn_id: str) -> None:
        self._spoken.pop(turn_id, None)
        self._written.pop(turn_id, None)
