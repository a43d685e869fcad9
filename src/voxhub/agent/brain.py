"""The assistant brain: one turn's answer from emotion, the offline agent, the LLM and its tools.

It is a reply source (`voxhub.pipeline.reply`), so every surface that runs a conversation gets the same
behaviour: the native WebSocket, `/api/v1`, `/v1/chat/completions`, Realtime and Wyoming.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from voxhub.agent.context_fit import fit_context, is_overflow
from voxhub.agent.leaks import EchoFilter
from voxhub.agent.memory import NOTES_HEADER, SUMMARY_PREFIX, HistoryCompactor
from voxhub.agent.offline import OfflineAgent, OfflineReply
from voxhub.agent.tool_json import json_tool_calls
from voxhub.agent.tools.base import ToolArgumentsError, ToolError, ToolResult
from voxhub.agent.tools.timers import TimerService
from voxhub.engines.llm.base import ChatMessage, LlmChunk, LlmEngine, ToolCall, ToolSpec
from voxhub.errors import EngineError, VoxhubError
from voxhub.language import AUTO, language_code, language_name
from voxhub.pipeline.reply import (
    ReplyEvent,
    ReplyExchange,
    ReplyFailed,
    ReplyNotice,
    ReplyRequest,
    ReplyText,
    ReplyToolCalls,
)

logger = logging.getLogger(__name__)

NEUTRAL = "neutral"
TONE = "The user sounds {adjective}: answer in a fitting tone."
ANSWER_IN = "The user speaks {language}: always answer in {language}."
# What the brain adds to the prompt that the user must never hear read back (`voxhub.agent.leaks`).
INTERNAL_NOTES = (TONE.format(adjective="calm"), NOTES_HEADER, SUMMARY_PREFIX)
_FIT_ATTEMPTS = 3  # an overflow the estimate missed is fitted again, into two thirds, then four ninths


class EmotionLabeller(Protocol):
    def classify(self, text: str) -> Any: ...  # an Emotion: label, confidence, valence


class ToolBox(Protocol):
    """The server's tools (the registry): specs for the LLM, and calls by name."""

    def specs(self) -> tuple[ToolSpec, ...]: ...

    async def call(self, name: str, arguments: str | Mapping[str, Any]) -> ToolResult: ...


@dataclass(frozen=True, slots=True)
class BrainOptions:
    language: str = "en"
    offline_first: bool = True  # commands the offline agent knows never reach the LLM
    match_tone: bool = True  # tell the LLM how the user sounds
    acknowledgements: tuple[str, ...] = ()  # said at once while the LLM thinks
    max_tool_calls: int = 4  # per turn
    notes_prompt: str = ""  # what is remembered about the user


@dataclass
class Brain:
    """A reply source for one conversation (its LLM, persona options and the user's own tools)."""

    llm: LlmEngine
    options: BrainOptions = field(default_factory=BrainOptions)
    tools: ToolBox | None = None
    own_tools: ToolBox | None = None  # this conversation's only (its timers, `remember` for its user)
    emotion: EmotionLabeller | None = None
    offline: OfflineAgent | None = None
    compactor: HistoryCompactor | None = None
    timers: TimerService | None = None  # the conversation's, for timer commands the offline agent carries out
    area: str | None = None  # the Home Assistant area the session listens in (a satellite's)
    _turns: int = 0

    async def reply(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        text = request.user_text
        language = self._language(request)
        # Both on worker threads at once: the answer waits for the slower, not for the two in turn.
        emotion, handled = await asyncio.gather(self._emotion(text), self._offline(text, language))
        if emotion is not None:
            yield ReplyNotice(
                "emotion",
                {"label": emotion.label, "confidence": emotion.confidence, "valence": emotion.valence},
            )
        if handled is not None:
            for event in _offline_events(handled, fallback_reason=None):
                yield event
            return
        messages = list(request.messages)
        if self.compactor is not None:
            compacted = await self.compactor.fit(messages, request.max_tokens)
            if compacted is not None:
                yield compacted
                gone = {id(message) for message in compacted.replaced}
                messages = [messages[0], compacted.summary, *(m for m in messages[1:] if id(m) not in gone)]
        messages = self._with_context(messages, emotion, language)
        if text and self.options.acknowledgements:
            self._turns += 1
            acks = self.options.acknowledgements
            yield ReplyText(acks[self._turns % len(acks)] + " ")
        async for event in self._llm_turn(request, messages):
            yield event

    async def _llm_turn(
        self, request: ReplyRequest, messages: list[ChatMessage]
    ) -> AsyncIterator[ReplyEvent]:
        # The client's tools win over the server's namesakes (it runs them itself, e.g. Extended OpenAI
        # Conversation's execute_services), and the conversation's own win over the registry's.
        client_specs = request.options.tools
        taken = {spec.name for spec in client_specs}
        own = tuple(
            spec for spec in (self.own_tools.specs() if self.own_tools else ()) if spec.name not in taken
        )
        own_names = {spec.name for spec in own}
        shared = tuple(
            spec for spec in (self.tools.specs() if self.tools else ()) if spec.name not in taken | own_names
        )
        server_specs = (*shared, *own)
        if not self.llm.capabilities.tool_calling:
            server_specs = ()  # a model that cannot call tools would only read their long descriptions
        server_names = {spec.name for spec in server_specs}
        specs = (*client_specs, *server_specs)
        calls_left = self.options.max_tool_calls
        wanted = request.options.tool_choice
        retried = False
        while True:
            said: list[str] = []
            calls: tuple[ToolCall, ...] = ()
            echo = EchoFilter(INTERNAL_NOTES)
            choice = wanted if calls_left > 0 else "none"
            offered = () if choice == "none" else specs  # "none": the LLM answers in words only
            try:
                stream = self._chat(messages, offered, choice if offered else None, request)
                async for chunk in json_tool_calls(stream, offered):  # calls it wrote as JSON text too
                    if chunk.notice is not None:  # e.g. the LLM chain switched to its next member
                        yield ReplyNotice(chunk.notice[0], dict(chunk.notice[1]))
                    heard = echo.feed(chunk.text) if chunk.text else ""
                    if heard:
                        said.append(heard)
                        yield ReplyText(heard)
                    calls += chunk.tool_calls
                rest = echo.flush()
                if rest:
                    said.append(rest)
                    yield ReplyText(rest)
                if echo.dropped:
                    logger.warning(
                        "the LLM read back an internal note: dropped", extra={"dropped": echo.dropped}
                    )
                    if not said and not calls and not retried:
                        # All it said was the note: ask once more without the tone, the note it reads back.
                        retried = True
                        messages = [m for m in messages if not _is_tone(m)]
                        continue
            except (EngineError, TimeoutError) as exc:
                if said or self.offline is None or not request.user_text:
                    raise
                reason = exc.message if isinstance(exc, VoxhubError) else "the language model timed out"
                logger.warning("LLM failed; answering offline", extra={"reason": reason})
                handled = await self.offline.fallback_reply(
                    request.user_text, reason, self._language(request), timers=self.timers, area=self.area
                )
                for event in _offline_events(handled, fallback_reason=reason):
                    yield event
                return
            if not calls:
                return
            client_calls = tuple(call for call in calls if call.name not in server_names)
            server_calls = tuple(call for call in calls if call.name in server_names)
            if server_calls:
                exchange, failure = await self._run(server_calls, own_names, calls_left)
                calls_left -= len(server_calls)
                for call, message in zip(server_calls, exchange[1:], strict=True):
                    yield ReplyNotice(
                        "tool_call",
                        {"name": call.name, "arguments": call.arguments_json, "result": message.content},
                    )
                yield ReplyExchange(exchange)
                if failure is not None:
                    yield ReplyFailed(failure.code, failure.message, failure.details)
                    yield ReplyText(failure.spoken)
                    return
                messages += exchange
                if wanted != "none":
                    wanted = None  # a forced call ("required", a name) was made: now the LLM may answer
            if client_calls:
                yield ReplyToolCalls(client_calls)
                return
            if not server_calls:
                return

    async def _chat(
        self,
        messages: list[ChatMessage],
        tools: tuple[ToolSpec, ...],
        tool_choice: str | None,
        request: ReplyRequest,
    ) -> AsyncIterator[LlmChunk]:
        """The LLM's answer to `messages` fitted to its context; fitted tighter if the server still finds
        them too long (the count is an estimate), so an overflow never fails the turn."""
        context = self.llm.capabilities.context_tokens
        for attempt in range(_FIT_ATTEMPTS):
            fitted = fit_context(messages, tools, context_tokens=context, max_tokens=request.max_tokens)
            if fitted.dropped or fitted.shortened:
                logger.info(
                    "the prompt was fitted to the LLM's context",
                    extra={
                        "context_tokens": context,
                        "dropped_messages": fitted.dropped,
                        "shortened_messages": fitted.shortened,
                    },
                )
            started = False
            try:
                async for chunk in self.llm.chat(
                    fitted.messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    max_tokens=fitted.max_tokens,
                    temperature=request.options.temperature,
                ):
                    started = True
                    yield chunk
                return
            except EngineError as exc:
                if started or not is_overflow(exc) or attempt == _FIT_ATTEMPTS - 1:
                    raise
                logger.warning(
                    "the LLM found the prompt too long: fitting it into less",
                    extra={"context_tokens": context, "error": exc.message},
                )
                context = context * 2 // 3

    async def _run(
        self, calls: tuple[ToolCall, ...], own_names: set[str], calls_left: int
    ) -> tuple[tuple[ChatMessage, ...], ToolError | None]:
        """Run the calls in order: the assistant message that made them, then one result each."""
        results: list[ChatMessage] = []
        failure: ToolError | None = None
        for index, call in enumerate(calls):
            if failure is None and index >= calls_left:
                failure = ToolError(
                    f"more than {self.options.max_tool_calls} tool calls in one turn",
                    spoken="Sorry, that took too many steps.",
                    details={"tool": call.name},
                )
            if failure is not None:
                results.append(ChatMessage("tool", f"not run: {failure.message}", tool_call_id=call.id))
                continue
            try:
                box = self.own_tools if call.name in own_names else self.tools
                assert box is not None
                result = await box.call(call.name, call.arguments_json or "{}")
                results.append(ChatMessage("tool", result.content, tool_call_id=call.id))
            except ToolArgumentsError as exc:  # the LLM is told why, and may call it again correctly
                results.append(ChatMessage("tool", f"error: {exc.message}", tool_call_id=call.id))
            except ToolError as exc:
                failure = exc
                results.append(ChatMessage("tool", f"error: {exc.message}", tool_call_id=call.id))
        return (ChatMessage("assistant", "", tool_calls=calls), *results), failure

    def _language(self, request: ReplyRequest) -> str:
        """The turn's language: the one heard (the pipeline sets it per turn), else the conversation's."""
        return request.options.language or self.options.language

    async def _offline(self, text: str, language: str) -> OfflineReply | None:
        """The offline agent's answer to a command it knows (None: the LLM answers)."""
        if not text or self.offline is None or not self.options.offline_first:
            return None
        return await self.offline.handle(text, language, timers=self.timers, area=self.area)

    async def _emotion(self, text: str) -> Any:
        if self.emotion is None or not text:
            return None
        try:
            return await asyncio.to_thread(self.emotion.classify, text)
        except VoxhubError as exc:  # an emotion is a nicety: never fail the turn for it
            logger.warning("emotion recognition failed", extra={"error": exc.code})
            return None

    def _with_context(
        self, messages: list[ChatMessage], emotion: Any, language: str = "en"
    ) -> list[ChatMessage]:
        """The user's notes and the language to answer in, in the system prompt; how they sound as a note just
        before their words.

        The tone changes every turn, so it goes late: everything before it stays the same from turn to turn,
        and the LLM server reuses its cached prompt for all of that. It never goes after the user's words: a
        small model answers the last message it reads, and read back "The user sounds happy" as its answer.
        """
        extra = [self.options.notes_prompt] if self.options.notes_prompt else []
        if language_code(language) not in (
            "en",
            AUTO,
        ):  # a small model answers English whatever it was asked in
            extra.append(ANSWER_IN.format(language=language_name(language)))
        if extra:
            if messages and messages[0].role == "system":
                merged = "\n\n".join([messages[0].content, *extra])
                messages = [ChatMessage("system", merged), *messages[1:]]
            else:
                messages = [ChatMessage("system", "\n\n".join(extra)), *messages]
        if emotion is not None and self.options.match_tone and emotion.label != NEUTRAL:
            tone = ChatMessage("system", TONE.format(adjective=_adjective(emotion.label)))
            last = len(messages) - 1
            if messages and messages[last].role == "user":
                messages = [*messages[:last], tone, messages[last]]
            else:
                messages = [*messages, tone]
        return messages


def _is_tone(message: ChatMessage) -> bool:
    return message.role == "system" and message.content.startswith(TONE.split("{", 1)[0])


def _adjective(label: str) -> str:
    return {
        "joy": "happy",
        "anger": "angry",
        "sadness": "sad",
        "fear": "afraid",
        "surprise": "surprised",
    }.get(label, label)


def _offline_events(reply: OfflineReply, *, fallback_reason: str | None) -> list[ReplyEvent]:
    events: list[ReplyEvent] = [ReplyNotice("intent", {"intent": reply.intent, "slots": dict(reply.slots)})]
    if fallback_reason is not None:
        events.append(ReplyNotice("fallback", {"fallback": True, "reason": fallback_reason}))
    if reply.error is not None:
        events.append(ReplyFailed(reply.error.code, reply.error.message, reply.error.details))
    events.append(ReplyText(reply.text))
    return events
