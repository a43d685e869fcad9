"""The LLM contract: chat messages (and tools) in, a stream of text deltas and whole tool calls out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

if TYPE_CHECKING:
    from voxhub.config import Settings

Role = Literal["system", "user", "assistant", "tool"]

# The finish reason of an answer the engine cut short because it began repeating itself; on the
# OpenAI-compatible wire it is `length` (the answer is incomplete, as at the token cap).
LOOP_CUT = "repetition"


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments_json: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # on role "tool": which call this answers
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True, slots=True)
class LlmUsage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class LlmChunk:
    """A piece of the reply: text as it streams; tool calls whole, in the last chunk, with finish_reason
    (`stop`, `length` at the token cap, `tool_calls`, or `LOOP_CUT`). `notice`, on a chunk of its own: an
    event about the answer for the client, (kind, data), e.g. the LLM chain switching to its next member."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: LlmUsage | None = None
    notice: tuple[str, Mapping[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class LlmCapabilities:
    model: str
    context_tokens: int
    tool_calling: bool
    streaming: bool = True


class LlmEngine(Protocol):
    name: str
    capabilities: LlmCapabilities

    @classmethod
    def from_settings(cls, settings: Settings) -> Self: ...

    async def warm_up(self) -> None: ...

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LlmChunk]:
        """Stream the reply. `tool_choice`: None/"auto", "none", "required" or a tool's name."""
        ...

    async def aclose(self) -> None: ...


async def complete(engine: LlmEngine, messages: Sequence[ChatMessage], **options: Any) -> LlmChunk:
    """The whole reply as one chunk (text joined, tool calls and usage from the stream)."""
    text: list[str] = []
    last = LlmChunk()
    async for chunk in engine.chat(messages, **options):
        text.append(chunk.text)
        if chunk.finish_reason or chunk.tool_calls or chunk.usage:
            last = chunk
    return LlmChunk("".join(text), last.tool_calls, last.finish_reason, last.usage)
