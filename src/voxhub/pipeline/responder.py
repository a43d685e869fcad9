"""The replying stage: starts a turn on a final transcript or typed text, streams the LLM, barges in."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace

from voxhub.engines.llm.base import ChatMessage
from voxhub.errors import VoxhubError
from voxhub.log_context import bind_log_context
from voxhub.pipeline.frames import (
    RETRACTED,
    AnswerTextFrame,
    ConfirmTurnFrame,
    ErrorFrame,
    Frame,
    InterruptFrame,
    ModeChangedFrame,
    NoticeFrame,
    ReplyOptionsFrame,
    RespondFrame,
    ResponseDeltaFrame,
    RetractFrame,
    SayFrame,
    SentenceFrame,
    SpeechStartedFrame,
    TentativeTranscriptFrame,
    TextInputFrame,
    ToolCallsFrame,
    TranscriptFrame,
    TurnDoneFrame,
    WithdrawFrame,
)
from voxhub.pipeline.memory import ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.reply import (
    FixedReply,
    ReplyCompacted,
    ReplyExchange,
    ReplyFailed,
    ReplyNotice,
    ReplyOptions,
    ReplyRequest,
    ReplySource,
    ReplyText,
    ReplyToolCalls,
)
from voxhub.pipeline.sentences import SentenceSplitter
from voxhub.pipeline.stage import Push, Stage
from voxhub.pipeline.timing import TurnTimings
from voxhub.pipeline.turns import Source, Turn, Turns

_log = logging.getLogger(__name__)
FIRST_CLAUSE_WORDS = 4  # speech may start at the first comma once this many words are written


def new_turn_id() -> str:
    return "turn_" + uuid.uuid4().hex[:12]


class ResponderStage(Stage):
    """One turn at a time: a new utterance or typed message while answering interrupts the answer."""

    name = "responder"

    def __init__(
        self,
        source: ReplySource,
        memory: ConversationMemory,
        mode: ModeState,
        options: ReplyOptions,
        *,
        turns: Turns | None = None,
        timings: TurnTimings | None = None,
    ) -> None:
        self.source = source
        self.memory = memory
        self.mode = mode
        self.options = options
        self.turns = turns if turns is not None else Turns()
        self.timings = timings or TurnTimings()
        self._current: Turn | None = None  # the turn answered last (it may have ended since)
        self._task: asyncio.Task[None] | None = None
        self._unanswered: list[ChatMessage] = []  # utterances heard while `answer_speech` is off

    @property
    def answering(self) -> bool:
        """Whether the current turn is still being answered (generated or spoken)."""
        return self._current is not None and self._current.answering and not self._current.stopping

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def process(self, frame: Frame, push: Push) -> None:
        if isinstance(frame, SpeechStartedFrame):
            if self.options.barge_in:
                await self.interrupt(push, "user_speech")
            await push(frame)
        elif isinstance(frame, InterruptFrame):
            await self._interrupt_frame(frame, push)
        elif isinstance(frame, TextInputFrame):
            await self.interrupt(push, "user_text")
            await self._start(new_turn_id(), (ChatMessage("user", frame.text),), "typed", push)
        elif isinstance(frame, RespondFrame):
            await self.interrupt(push, "client")
            # Tool outputs answer the last assistant message: they come before anything the user said since.
            outputs = tuple(message for message in frame.inputs if message.role == "tool")
            said = tuple(message for message in frame.inputs if message.role != "tool")
            inputs, self._unanswered = (*outputs, *self._unanswered, *said), []
            await self._start(new_turn_id(), inputs, "tools" if outputs else "typed", push)
        elif isinstance(frame, WithdrawFrame):
            for index in range(len(self._unanswered) - 1, -1, -1):  # the latest one saying it
                if self._unanswered[index].content == frame.text:
                    del self._unanswered[index]
                    break
        elif isinstance(frame, SayFrame):
            await self.interrupt(push, "client")
            await self._start(new_turn_id(), (), "said", push, FixedReply(frame.text))
        elif isinstance(frame, TentativeTranscriptFrame):
            if self.options.answer_speech:
                # Answer now, held back, so the first audio is ready when the endpoint confirms the turn.
                await self.interrupt(push, "user_speech")
                inputs = (ChatMessage("user", frame.text),)
                await self._start(
                    frame.turn_id, inputs, "spoken", push, tentative=True, language=frame.language
                )
        elif isinstance(frame, RetractFrame):
            await self._retract(frame.turn_id, push)
        elif isinstance(frame, TranscriptFrame) and frame.is_final:
            await self._final(frame, push)
        elif isinstance(frame, ModeChangedFrame):
            self.mode = ModeState(**frame.mode)
            await push(frame)
        elif isinstance(frame, ReplyOptionsFrame):
            self.options = frame.options
        else:
            await push(frame)

    async def _final(self, frame: TranscriptFrame, push: Push) -> None:
        await push(frame)
        turn = self.turns.open_turn(frame.turn_id)
        if turn is not None:
            turn.transcript = frame.text
        if (
            turn is not None
            and turn.tentative
            and turn.user_text == frame.text
            and turn.language == frame.language
        ):
            turn.tentative = False
            await push(ConfirmTurnFrame(frame.turn_id))  # the answer is already on its way
            return
        await self._retract(frame.turn_id, push)
        if not frame.text:  # nothing recognized: no turn
            self.turns.drop(frame.turn_id)
        elif not self.options.answer_speech:
            self.turns.drop(frame.turn_id)  # kept for the answer the client asks for
            self._unanswered.append(ChatMessage("user", frame.text))
        else:
            await self.interrupt(push, "user_speech")
            inputs = (ChatMessage("user", frame.text),)
            await self._start(frame.turn_id, inputs, "spoken", push, language=frame.language)

    async def _interrupt_frame(self, frame: InterruptFrame, push: Push) -> None:
        if not frame.turn_id:  # the client: whatever is in flight
            await self.interrupt(push, frame.reason)
            return
        turn = self.turns.open_turn(frame.turn_id)
        if turn is not None:
            turn.stopping = True
        if self._current is turn and self._task is not None:
            self._task.cancel()
        await push(frame)

    async def interrupt(self, push: Push, reason: str) -> None:
        """Stop the answer in flight, if any; stages downstream drop what they still hold of it."""
        turn = self._current
        if turn is None or not self.answering:
            return
        if turn.tentative:
            await self._retract(turn.turn_id, push)
            return
        turn.stopping = True
        if self._task is not None:
            self._task.cancel()
        await push(InterruptFrame(turn.turn_id, reason))

    async def _retract(self, turn_id: str, push: Push) -> None:
        """Void a tentative answer: nothing of it was shown, and history forgets it."""
        turn = self.turns.open_turn(turn_id)
        if turn is None or not turn.tentative:
            return
        if self._current is turn and self._task is not None:
            self._task.cancel()
        # Gone from the ledger at once (the answer may start again under the same id); the stages
        # downstream drop what they hold of it when the interrupt overtakes their queues.
        self.turns.drop(turn_id)
        await push(InterruptFrame(turn_id, RETRACTED))

    async def _start(
        self,
        turn_id: str,
        inputs: tuple[ChatMessage, ...],
        kind: Source,
        push: Push,
        source: ReplySource | None = None,
        *,
        tentative: bool = False,
        language: str | None = None,
    ) -> None:
        previous = self._current
        turn = self.turns.think(turn_id, inputs, kind, tentative=tentative)
        turn.language = language
        self._current = turn
        self._task = asyncio.create_task(
            self._reply(previous, turn, push, source or self.source), name=f"voxhub-{turn_id}"
        )

    async def _reply(self, previous: Turn | None, turn: Turn, push: Push, source: ReplySource) -> None:
        bind_log_context(turn_id=turn.turn_id)  # this task's log lines belong to the turn
        if previous is not None:
            await self.turns.wait_settled(previous.turn_id)
        self.memory.begin(turn)
        messages = (ChatMessage("system", self.options.system_prompt), *self.memory.messages)
        # The answer is in the language heard (with `auto`, the one Whisper identified), else the session's.
        options = replace(self.options, language=turn.language) if turn.language else self.options
        splitter = SentenceSplitter(first_clause_words=FIRST_CLAUSE_WORDS, language=options.language)
        mode, turn_id = self.mode, turn.turn_id
        started = self.turns.now()
        try:
            request = ReplyRequest(turn_id, messages, options, spoken=mode.voice_output)
            async for event in source.reply(request):
                if isinstance(event, ReplyText) and event.text:
                    if not turn.generated:
                        self.timings.llm_first_token(turn, self.turns.now() - started)
                    turn.generated.append(event.text)
                    if mode.text_output:
                        await push(ResponseDeltaFrame(event.text, turn_id))
                    if mode.voice_output:
                        for sentence in splitter.push(event.text):
                            self.timings.llm_first_sentence(turn, self.turns.now() - started)
                            await push(SentenceFrame(sentence, turn_id))
                elif isinstance(event, ReplyNotice):
                    await push(NoticeFrame(event.kind, event.data, turn_id))
                elif isinstance(event, ReplyExchange):
                    self.memory.record_exchange(turn, event.messages)
                elif isinstance(event, ReplyToolCalls):
                    self.memory.record_tool_calls(turn, event.calls)
                    await push(ToolCallsFrame(event.calls, turn_id))
                elif isinstance(event, ReplyCompacted):
                    await self.memory.compact(event.replaced, event.summary)
                elif isinstance(event, ReplyFailed):
                    await push(ErrorFrame(event.code, event.message, event.details, turn_id))
        except VoxhubError as exc:
            await push(ErrorFrame(exc.code, exc.message, exc.details, turn_id))
        except Exception as exc:  # a bug in a reply source: the user hears about it and the turn ends
            _log.exception("the answer to %s failed", turn_id)
            await push(ErrorFrame("internal_error", "the answer failed: " + type(exc).__name__, {}, turn_id))
        if mode.voice_output:
            for sentence in splitter.flush():
                await push(SentenceFrame(sentence, turn_id))
        text = "".join(turn.generated).strip()
        await push(AnswerTextFrame(turn_id, text))
        await push(TurnDoneFrame(turn_id, text))
