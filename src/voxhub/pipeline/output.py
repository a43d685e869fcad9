"""The last stage: paces audio to real time, records on the turn what was really sent, hands frames out.

It ends each turn in the ledger (done, interrupted or failed, with the words the user got); the
conversation commits it to history off the audio path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from voxhub.pipeline.frames import (
    FAILED,
    RETRACTED,
    AnswerTextFrame,
    AudioOutEndFrame,
    AudioOutFrame,
    AudioStartFrame,
    ConfirmTurnFrame,
    ErrorFrame,
    Frame,
    InterruptFrame,
    ModeChangedFrame,
    NoticeFrame,
    ResponseDeltaFrame,
    SpeechOnsetFrame,
    SpeechStoppedFrame,
    ToolCallsFrame,
    TurnDoneFrame,
)
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.stage import Push, Stage
from voxhub.pipeline.timing import TurnTimings
from voxhub.pipeline.turns import Turn, Turns, TurnState

Send = Callable[[Frame], Awaitable[None]]
# The frames of an answer: they reach the client only while their turn is open and not being stopped.
_ANSWER_FRAMES = (
    AnswerTextFrame,
    AudioStartFrame,
    AudioOutFrame,
    AudioOutEndFrame,
    ResponseDeltaFrame,
    TurnDoneFrame,
    NoticeFrame,
    ToolCallsFrame,
    ConfirmTurnFrame,
)


class OutputStage(Stage):
    """Sends at most `lead_ms` of audio ahead of real time, so a barge-in leaves little unheard audio out."""

    name = "output"

    def __init__(
        self,
        send: Send,
        mode: ModeState,
        *,
        turns: Turns | None = None,
        lead_ms: float = 300.0,
        hush_ms: float = 350.0,
        timings: TurnTimings | None = None,
    ) -> None:
        self._send = send
        self.mode = mode
        self.turns = turns if turns is not None else Turns()
        self._lead_secs = lead_ms / 1000
        self._hush_secs = hush_ms / 1000
        self._hush_until = 0.0  # after a speech onset, audio waits this long for the interrupt
        self._timings = timings or TurnTimings()
        self._playout_end = 0.0  # when the audio sent so far finishes playing, on the ledger's clock
        self._speech_stopped_at: float | None = None

    async def process(self, frame: Frame, push: Push) -> None:
        turn_id: str | None = getattr(frame, "turn_id", None)
        if isinstance(frame, InterruptFrame):
            await self._interrupted(frame)
            return
        if turn_id is None or not isinstance(frame, _ANSWER_FRAMES):
            await self._event(frame)
            return
        turn = self.turns.open_turn(turn_id)
        if turn is None or turn.stopping:
            return  # a turn stopped, retracted or ended: what is left of it never reaches the client
        if isinstance(frame, ConfirmTurnFrame):
            assert self.inbox is not None
            turn.tentative = False
            for held in reversed(turn.held):
                self.inbox.unget(held)  # back to the head of the queue, to go out paced as usual
            turn.held.clear()
        elif turn.tentative:
            turn.held.append(frame)
        else:
            await self._answer(turn, frame)

    async def _answer(self, turn: Turn, frame: Frame) -> None:
        voice = self.mode.voice_output
        if isinstance(frame, AudioOutFrame if voice else ResponseDeltaFrame):
            self._timings.first_output_ready(turn, spoken=voice)
        if isinstance(frame, AudioOutFrame):
            if not await self._paced(frame):
                return
            if self._speech_stopped_at is not None:
                self._timings.end_of_speech_to_first_audio(self.turns.now() - self._speech_stopped_at)
                self._speech_stopped_at = None
            if turn.state is TurnState.THINKING:
                turn.move(TurnState.SPEAKING)
            await self._send(frame)
            turn.audio_sent_ms += len(frame.pcm_s16le) * 500 / frame.sample_rate_hz
            if frame.spoken_text:
                turn.spoken.append(frame.spoken_text)
        elif isinstance(frame, ResponseDeltaFrame):
            await self._send(frame)
            turn.written.append(frame.text)
        elif isinstance(frame, TurnDoneFrame):
            self._timings.turn_finished(turn)
            self.turns.end(turn, TurnState.DONE, frame.text)
        else:
            await self._send(frame)

    async def _event(self, frame: Frame) -> None:
        if isinstance(frame, ErrorFrame) and frame.turn_id is not None:
            turn = self.turns.get(frame.turn_id)
            if turn is not None:
                if frame.error in turn.errors_reported:
                    return  # once per turn: a voice missing from TTS fails every sentence alike
                turn.errors_reported.add(frame.error)
        elif isinstance(frame, SpeechOnsetFrame):
            if self._playout_end > self.turns.now():  # only while an answer is playing
                self._hush_until = self.turns.now() + self._hush_secs
            return
        elif isinstance(frame, SpeechStoppedFrame):
            # Dated back to when the user stopped speaking (audio arrives in real time).
            self._speech_stopped_at = self.turns.now() - frame.detected_after_ms / 1000
        elif isinstance(frame, ModeChangedFrame):
            self.mode = ModeState(**frame.mode)
        await self._send(frame)

    async def _paced(self, frame: AudioOutFrame) -> bool:
        """Wait until the frame is due; False (and the frame put back) if an urgent frame came first."""
        now = self.turns.now()
        wait = max(self._playout_end - now - self._lead_secs, self._hush_until - now)
        assert self.inbox is not None
        if wait > 0 and await self.inbox.urgent_within(wait):
            self.inbox.unget(frame)
            return False
        duration = len(frame.pcm_s16le) / (2 * frame.sample_rate_hz)
        self._playout_end = max(self._playout_end, self.turns.now()) + duration
        return True

    async def _interrupted(self, frame: InterruptFrame) -> None:
        turn_id = frame.turn_id
        assert self.inbox is not None
        self.inbox.drop(lambda queued: getattr(queued, "turn_id", None) == turn_id)
        if frame.reason == RETRACTED:
            return  # a tentative answer nobody saw: gone from the ledger already, no trace, no event
        turn = self.turns.open_turn(turn_id)
        if turn is None:
            return  # that turn ended already
        if turn.tentative:
            self.turns.drop(turn_id)
            return
        self._playout_end = 0.0
        heard = turn.heard_text(self.mode.voice_output)
        if frame.reason == FAILED:
            self.turns.end(turn, TurnState.FAILED, heard)  # a `response` with what was said follows
            return
        self.turns.end(turn, TurnState.INTERRUPTED, heard)
        await self._send(frame)
