"""One session's conversation: listener → responder → speaker → output, linked by bounded queues."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voxhub.engines.llm.base import ChatMessage, LlmEngine
from voxhub.engines.stt.base import SttEngine
from voxhub.engines.tts.base import TtsEngine
from voxhub.engines.turn.base import TurnEngine
from voxhub.engines.vad.base import VadEngine
from voxhub.engines.wake.base import WakeEngine
from voxhub.errors import EmptyTextError, InputError, VoxhubError
from voxhub.pipeline.frames import (
    FAILED,
    AudioClearFrame,
    AudioEndFrame,
    AudioInFrame,
    ErrorFrame,
    Frame,
    InterruptFrame,
    ModeChangedFrame,
    NoticeFrame,
    ReplyOptionsFrame,
    RespondFrame,
    ResponseFrame,
    SayFrame,
    TextInputFrame,
    WithdrawFrame,
)
from voxhub.pipeline.listener import ListenerStage, ListeningOptions
from voxhub.pipeline.memory import ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.output import OutputStage, Send
from voxhub.pipeline.reply import LlmReplies, ReplyOptions, ReplySource
from voxhub.pipeline.responder import ResponderStage, new_turn_id
from voxhub.pipeline.speaker import SpeakerStage, VoiceOptions
from voxhub.pipeline.stage import Pipeline, Stage
from voxhub.pipeline.timing import LatencyObserver, TurnTimings
from voxhub.pipeline.turns import Turn, Turns, TurnState

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConversationEngines:
    vad: VadEngine
    stt: SttEngine
    tts: TtsEngine
    llm: LlmEngine
    wake: WakeEngine | None = None
    replies: ReplySource | None = None  # what answers; the LLM alone if None
    turn: TurnEngine | None = None  # what ends a turn at a pause; the VAD's silence window if None
    tts_other_languages: TtsEngine | None = None  # speaks answers in languages `tts` does not (`auto`)


@dataclass(frozen=True, slots=True)
class ConversationOptions:
    reply: ReplyOptions
    listening: ListeningOptions = field(default_factory=ListeningOptions)
    voice: VoiceOptions = field(default_factory=VoiceOptions)
    input_rate_hz: int = 16000
    output_lead_ms: float = 300.0
    queue_size: int = 64


async def _discard(frame: Frame) -> None:
    """Nothing follows the output stage."""


class Conversation:
    """Feed it audio and text; it sends speech events, transcripts, answers and audio through `send`.

    It owns the turn ledger: the stages record each turn there, and the conversation commits every turn
    that ends to history, in order and off the audio path, before the next answer reads it.
    """

    def __init__(
        self,
        engines: ConversationEngines,
        options: ConversationOptions,
        *,
        mode: ModeState,
        memory: ConversationMemory,
        send: Send,
        metrics: LatencyObserver | None = None,
    ) -> None:
        self.mode = mode
        self.memory = memory
        self.options = options
        self.greeting: str | None = None  # what the assistant says first, if this is a new conversation
        self.warnings: list[ErrorFrame] = []  # what was wrong with the setup and fell back (told the client)
        self._closing: list[Callable[[], Awaitable[None]]] = []
        self._reply_options = options.reply

        self.turns = Turns()
        self.turns.on_end = self._ended
        self.turns.on_drop = memory.discard
        self._to_commit: asyncio.Queue[Turn] = asyncio.Queue()
        self._committer: asyncio.Task[None] | None = None

        self.timings = TurnTimings(metrics)
        self.listener = ListenerStage(
            engines.vad,
            engines.stt,
            engines.wake,
            options.listening,
            new_turn_id=new_turn_id,
            input_rate_hz=options.input_rate_hz,
            timings=self.timings,
            turns=self.turns,
            turn_engine=engines.turn,
        )
        self.responder = ResponderStage(
            engines.replies or LlmReplies(engines.llm),
            memory,
            mode,
            options.reply,
            turns=self.turns,
            timings=self.timings,
        )
        self.speaker = SpeakerStage(
            engines.tts,
            options.voice,
            turns=self.turns,
            timings=self.timings,
            other_languages=engines.tts_other_languages,
        )
        self.output = OutputStage(
            send,
            mode,
            turns=self.turns,
            lead_ms=options.output_lead_ms,
            # audio pauses at a speech onset until the VAD confirms the speech (then it is cut) or not
            hush_ms=1000 * options.listening.start_secs + 150.0,
            timings=self.timings,
        )
        self._pipeline = Pipeline(
            [self.listener, self.responder, self.speaker, self.output],
            _discard,
            queue_size=options.queue_size,
            on_error=self._stage_failed,
        )
        self._input_rate_hz = options.input_rate_hz

    async def start(self) -> None:
        if self.mode.voice_input:
            # Off the event loop: many sessions starting at once must not stall the ones already talking.
            await asyncio.to_thread(self.listener.prepare)
        self._committer = asyncio.create_task(self._commit_turns(), name="voxhub-commit")
        await self._pipeline.start()

    def on_close(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run `callback` when the conversation closes (e.g. to cancel its timers)."""
        self._closing.append(callback)

    async def finish(self, reason: str, timeout_secs: float = 2.0) -> None:
        """Close after stopping the answer in flight the usual way: the client gets `interrupted`, and
        history keeps the turn as heard (e.g. before a rebuild with new engines)."""
        answering = self.turns.answering
        if answering is not None and not answering.tentative and not answering.stopping:
            self._pipeline.inboxes[0].put_urgent(InterruptFrame("", reason))
            await self.turns.wait_settled(answering.turn_id, timeout_secs)
        await self.close()

    async def close(self) -> None:
        await self._pipeline.stop()
        # An answer cut off by the close is kept as the user got it, like an interrupted one.
        answering = self.turns.answering
        if answering is not None and not answering.tentative and not answering.stopping:
            self.turns.end(answering, TurnState.INTERRUPTED, answering.heard_text(self.mode.voice_output))
        await self._drain_commits()
        for callback in self._closing:
            await callback()

    # -- history ---------------------------------------------------------------------------------------

    def _ended(self, turn: Turn) -> None:
        self._to_commit.put_nowait(turn)

    async def _commit_turns(self) -> None:
        while True:
            turn = await self._to_commit.get()
            await self._commit(turn)

    async def _drain_commits(self) -> None:
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
            self._committer = None
        while not self._to_commit.empty():
            await self._commit(self._to_commit.get_nowait())

    async def _commit(self, turn: Turn) -> None:
        """Write one ended turn to history, then tell the client (`response`) and let the next turn on."""
        try:
            await self.memory.commit(turn)
        except VoxhubError as exc:
            self._report(ErrorFrame(exc.code, exc.message, exc.details, turn.turn_id))
        except Exception as exc:
            _log.exception("committing %s to history failed", turn.turn_id)
            message = "the turn could not be saved to history: " + type(exc).__name__
            self._report(ErrorFrame("history_error", message, {}, turn.turn_id))
        finally:
            if turn.state is not TurnState.INTERRUPTED:
                self._report(ResponseFrame(turn.answer or "", turn.turn_id))
            turn.settled.set()

    def _report(self, frame: Frame) -> None:
        """A frame for the client from outside the stages: it joins the output's queue."""
        self._pipeline.inboxes[-1].put_nowait(frame)

    async def wait_settled(self, turn_id: str, timeout_secs: float = 2.0) -> None:
        """Wait (briefly) until history has turn `turn_id` (committed, or known never to be)."""
        await self.turns.wait_settled(turn_id, timeout_secs)

    async def _stage_failed(self, stage: Stage, frame: Frame, exc: Exception) -> None:
        """A stage raised: the client gets an `error`, and the turn it hit ends (with a `response`)."""
        turn = self.turns.open_turn(getattr(frame, "turn_id", None))
        turn_id = turn.turn_id if turn is not None else None
        message = f"{stage.name} failed: {type(exc).__name__}"
        self._report(ErrorFrame("internal_error", message, {"stage": stage.name}, turn_id))
        if turn is None:
            return
        if turn.answering:
            self._pipeline.inboxes[0].put_urgent(InterruptFrame(turn.turn_id, FAILED))
        else:
            self.turns.drop(turn.turn_id)

    # -- input -----------------------------------------------------------------------------------------

    async def push_audio(self, pcm_s16le: bytes) -> None:
        """Audio from the user at the session's input rate; waits while the listener is behind."""
        if not self.mode.voice_input:
            raise InputError("voice input is off for this session; send text, or turn voice_input on")
        if len(pcm_s16le) % 2:
            raise InputError("audio must be whole 16-bit samples (an even number of bytes)")
        await self._pipeline.push(AudioInFrame(pcm_s16le, self._input_rate_hz))

    async def end_audio(self) -> None:
        """The user's utterance is over (push-to-talk release, or the end of an upload)."""
        await self._pipeline.push(AudioEndFrame())

    async def clear_audio(self) -> None:
        """Drop the audio not yet committed as an utterance (it is never transcribed nor answered)."""
        await self._pipeline.push(AudioClearFrame())

    async def push_text(self, text: str) -> None:
        if not self.mode.text_input:
            raise InputError("text input is off for this session; speak, or turn text_input on")
        if not text.strip():
            raise EmptyTextError("text message is empty")
        await self._pipeline.push(TextInputFrame(text.strip()))

    async def respond(self, inputs: tuple[ChatMessage, ...] = ()) -> None:
        """Answer now, from the history plus `inputs` (e.g. the outputs of the client's tools)."""
        await self._pipeline.push(RespondFrame(inputs))

    async def withdraw(self, text: str) -> None:
        """Forget the utterance `text`, heard but not answered yet (`answer_speech` off)."""
        await self._pipeline.push(WithdrawFrame(text))

    async def say(self, text: str) -> None:
        """Say `text` as the assistant (a greeting): shown and spoken as the session's modes say."""
        await self._pipeline.push(SayFrame(text))

    async def notice(self, kind: str, data: dict[str, Any]) -> None:
        """Send the client an event of its own (`timer_finished`), in order with what is queued."""
        await self._pipeline.push(NoticeFrame(kind, data))

    def interrupt(self) -> None:
        """Stop the answer in flight (the client asked), ahead of anything queued."""
        self._pipeline.inboxes[0].put_urgent(InterruptFrame("", "client"))

    async def change_mode(self, flags: Mapping[str, bool]) -> None:
        """New modes from here on: each stage takes them as the frame passes, in order with the rest."""
        self.mode = self.mode.with_flags(flags)
        await self._pipeline.push(ModeChangedFrame(self.mode.as_dict()))

    @property
    def reply_options(self) -> ReplyOptions:
        return self._reply_options

    def update_reply(self, options: ReplyOptions) -> None:
        """How the next answers are made; applies to what is sent after this call, not to what is queued."""
        self._reply_options = options
        self._pipeline.inboxes[0].put_nowait(ReplyOptionsFrame(options))
