"""Where an answer comes from: a small contract the responder streams from.

The plain source is the LLM. The assistant brain (`voxhub.agent`) wraps it with emotion, server-side tools,
the offline agent and fallback, and hands the responder the same stream of events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from voxhub.engines.llm.base import ChatMessage, LlmEngine, ToolCall, ToolSpec


@dataclass(frozen=True, slots=True)
class ReplyOptions:
    system_prompt: str
    max_tokens: int = 256  # an answer shown as text only
    max_spoken_tokens: int | None = None  # an answer that is spoken (voice output); None: `max_tokens`
    temperature: float = 0.0
    tools: tuple[ToolSpec, ...] = ()  # the client's own tools: calls to them go back to the client
    tool_choice: str | None = None  # None/"auto", "none", "required" or a tool's name
    language: str | None = None
    persona: str | None = None
    user_id: str | None = None  # whose notes the brain may recall
    answer_speech: bool = True  # False: an utterance waits until the client asks for an answer
    barge_in: bool = True  # False: the user speaking does not stop the answer


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    turn_id: str
    messages: tuple[ChatMessage, ...]  # the system prompt, the history, then this turn's inputs
    options: ReplyOptions
    spoken: bool = False  # the answer will be spoken (voice output), not only shown

    @property
    def max_tokens(self) -> int:
        """The answer's token budget: the spoken one (never above `max_tokens`) when it will be spoken."""
        options = self.options
        if self.spoken and options.max_spoken_tokens is not None:
            return min(options.max_spoken_tokens, options.max_tokens)
        return options.max_tokens

    @property
    def user_text(self) -> str:
        """What the user said or typed this turn ("" for a turn that answers tool outputs)."""
        return self.messages[-1].content if self.messages and self.messages[-1].role == "user" else ""


@dataclass(frozen=True, slots=True)
class ReplyText:
    """Part of the answer, as it streams."""

    text: str


@dataclass(frozen=True, slots=True)
class ReplyNotice:
    """An event for the client about this turn (`emotion`, `tool_call`, `fallback`, ...)."""

    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReplyExchange:
    """Messages the answer added to the conversation before its text: server-side tool calls and results."""

    messages: tuple[ChatMessage, ...]


@dataclass(frozen=True, slots=True)
class ReplyToolCalls:
    """The answer asks the client to run these of its tools; the turn ends waiting for their outputs."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True)
class ReplyFailed:
    """The answer could not be made; `code`/`message` reach the client as an error event."""

    code: str
    message: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReplyCompacted:
    """Older history (`replaced`, the very messages of the request) now stands as one `summary` message."""

    summary: ChatMessage
    replaced: tuple[ChatMessage, ...]


ReplyEvent = ReplyText | ReplyNotice | ReplyExchange | ReplyToolCalls | ReplyFailed | ReplyCompacted


class ReplySource(Protocol):
    """Streams one turn's answer. Raising a VoxhubError is the same as yielding ReplyFailed."""

    def reply(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]: ...


class FixedReply:
    """A source that says one given text."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def reply(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        yield ReplyText(self.text)


class LlmReplies:
    """The plain source: the LLM's text, its calls of the client's tools, and its notices (the LLM chain
    switching to its next member reaches the client as an `llm_switch` event, as through the brain)."""

    def __init__(self, llm: LlmEngine) -> None:
        self.llm = llm

    async def reply(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        options = request.options
        async for chunk in self.llm.chat(
            request.messages,
            tools=options.tools,
            tool_choice=options.tool_choice if options.tools else None,
            max_tokens=request.max_tokens,
            temperature=options.temperature,
        ):
            if chunk.notice is not None:
                yield ReplyNotice(chunk.notice[0], dict(chunk.notice[1]))
            if chunk.text:
                yield ReplyText(chunk.text)
            if chunk.tool_calls:
                yield ReplyToolCalls(chunk.tool_calls)
