"""The replying stage: starts a turn on a final transcript or typed text, streams the LLM, barges in."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

from voxhub.engines.llm.base import ChatMessage
from voxhub.errors import VoxhubError
from voxhub.log_context import bind_log_context
from voxhub.pipeline.frames import (
    RETRACTED,
    ConfirmTurnFrame,
    ErrorFrame,
    Frame,
    HoldTurnFrame,
    InterruptFrame,
    NoticeFrame,
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
        timings: TurnTimings | None = None,
    ) -> None:
        self.source = source
        self.memory = memory
        self.mode = mode
        self.options = options
        self.timings = timings or TurnTimings()
        self._turn_id: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._tentative: tuple[str, str] | None = None  # (turn, text) being answered before its endpoint
        self._unanswered: list[ChatMessage] = []  # utterances heard while `answer_speech` is off

    @property
    def answering(self) -> bool:
        """Whether the current turn is still being answered (generated, spoken or committed)."""
        return self.memory.is_open(self._turn_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def process(self, frame: Frame, push: Push) -> None:
        if isinstance(frame, SpeechStartedFrame):
            if self.options.barge_in:
                await self.interrupt(push, "user_speech")
            await push(frame)
        elif isinstance(frame, InterruptFrame):
            await self.interrupt(push, frame.reason)
        elif isinstance(frame, TextInputFrame):
            await self.interrupt(push, "user_text")
            await self._start(new_turn_id(), [ChatMessage("user", frame.text)], push)
        elif isinstance(frame, RespondFrame):
            await self.interrupt(push, "client")
            # Tool outputs answer the last assistant message: they come before anything the user said since.
            outputs = tuple(message for message in frame.inputs if message.role == "tool")
            said = tuple(message for message in frame.inputs if message.role != "tool")
            inputs, self._unanswered = (*outputs, *self._unanswered, *said), []
            await self._start(new_turn_id(), inputs, push)
        elif isinstance(frame, WithdrawFrame):
            for index in range(len(self._unanswered) - 1, -1, -1):  # the latest one saying it
                if self._unanswered[index].content == frame.text:
                    del self._unanswered[index]
                    break
        elif isinstance(frame, SayFrame):
            await self.interrupt(push, "client")
            await self._start(new_turn_id(), (), push, FixedReply(frame.text))
        elif isinstance(frame, TentativeTranscriptFrame) and not self.options.answer_speech:
            return  # nothing is answered before the client asks
        elif isinstance(frame, TentativeTranscriptFrame):
            # Answer now, held back, so the first audio is ready when the endpoint confirms the turn.
            await self.interrupt(push, "user_speech")
            self._tentative = (frame.turn_id, frame.text)
            await push(HoldTurnFrame(frame.turn_id))
            await self._start(frame.turn_id, [ChatMessage("user", frame.text)], push)
        elif isinstance(frame, RetractFrame):
            await self._retract(frame.turn_id, push)
        elif isinstance(frame, TranscriptFrame) and frame.is_final:
            await push(frame)
            if self._tentative == (frame.turn_id, frame.text):
                self._tentative = None
                await push(ConfirmTurnFrame(frame.turn_id))
                return
            await self._retract(frame.turn_id, push)
            if frame.text and not self.options.answer_speech:
                self._unanswered.append(ChatMessage("user", frame.text))
            elif frame.text:  # nothing recognized: no turn
                await self.interrupt(push, "user_speech")
                await self._start(frame.turn_id, [ChatMessage("user", frame.text)], push)
        else:
            await push(frame)

    async def interrupt(self, push: Push, reason: str) -> None:
        """Stop the answer in flight, if any; stages downstream drop what they still hold of it."""
        if not self.answering or self._turn_id is None:
            return
        if self._task is not None:
            self._task.cancel()
        await push(InterruptFrame(self._turn_id, reason))

    async def _retract(self, turn_id: str, push: Push) -> None:
        """Void a tentative answer: nothing of it was shown, and history forgets it."""
        if self._tentative is None or self._tentative[0] != turn_id:
            return
        self._tentative = None
        if self._task is not None:
            self._task.cancel()
        if self._turn_id == turn_id:
            self._turn_id = None  # nothing is being answered any more
        await push(InterruptFrame(turn_id, RETRACTED))

    async def _start(
        self, turn_id: str, inputs: Sequence[ChatMessage], push: Push, source: ReplySource | None = None
    ) -> None:
        previous = self._turn_id
        self._turn_id = turn_id
        self._task = asyncio.create_task(
            self._reply(previous, turn_id, tuple(inputs), push, source or self.source),
            name=f"voxhub-{turn_id}",
        )

    async def _reply(
        self,
        previous: str | None,
        turn_id: str,
        inputs: tuple[ChatMessage, ...],
        push: Push,
        source: ReplySource,
    ) -> None:
        bind_log_context(turn_id=turn_id)  # this task's log lines belong to the turn
        self.timings.turn_started(turn_id)
        await self.memory.wait_settled(previous)
        self.memory.begin(turn_id, inputs)
        messages = (ChatMessage("system", self.options.system_prompt), *self.memory.messages)
        splitter = SentenceSplitter(first_clause_words=FIRST_CLAUSE_WORDS)
        parts: list[str] = []
        started = time.perf_counter()
        try:
            async for event in source.reply(ReplyRequest(turn_id, messages, self.options)):
                if isinstance(event, ReplyText) and event.text:
                    if not parts:
                        self.timings.llm_first_token(turn_id, time.perf_counter() - started)
                    parts.append(event.text)
                    if self.mode.text_output:
                        await push(ResponseDeltaFrame(event.text, turn_id))
                    if self.mode.voice_output:
                        for sentence in splitter.push(event.text):
                            self.timings.llm_first_sentence(turn_id, time.perf_counter() - started)
                            await push(SentenceFrame(sentence, turn_id))
                elif isinstance(event, ReplyNotice):
                    await push(NoticeFrame(event.kind, event.data, turn_id))
                elif isinstance(event, ReplyExchange):
                    self.memory.record_exchange(turn_id, event.messages)
                elif isinstance(event, ReplyToolCalls):
                    self.memory.record_tool_calls(turn_id, event.calls)
                    await push(ToolCallsFrame(event.calls, turn_id))
                elif isinstance(event, ReplyCompacted):
                    await self.memory.compact(event.replaced, event.summary)
                elif isinstance(event, ReplyFailed):
                    await push(ErrorFrame(event.code, event.message, event.details, turn_id))
        except VoxhubError as exc:
            await push(ErrorFrame(exc.code, exc.message, exc.details, turn_id))
        if self.mode.voice_output:
            for sentence in splitter.flush():
                await push(SentenceFrame(sentence, turn_id))
        await push(TurnDoneFrame(turn_id, "".join(parts).strip()))
