"""An LLM engine with the server's tools inside it, for callers that speak plain chat (`/v1/chat/completions`).

It wraps the configured engine: the caller sees text, and calls of its *own* tools only; calls of the
server's tools run in between, through the same brain every conversation uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Self

from voxhub.agent.brain import Brain, BrainOptions, ToolBox
from voxhub.engines.llm.base import ChatMessage, LlmChunk, LlmEngine, ToolCall, ToolSpec
from voxhub.engines.llm.metered import MeteredLlm
from voxhub.errors import ConfigError
from voxhub.pipeline.reply import ReplyOptions, ReplyRequest, ReplyText, ReplyToolCalls

if TYPE_CHECKING:
    from voxhub.config import Settings


class ServerToolsLlm:
    """`llm`, plus the server's tools run server-side at most `max_tool_calls` times a request."""

    def __init__(self, llm: LlmEngine, tools: ToolBox, *, max_tool_calls: int = 4) -> None:
        self.llm = llm
        self.name = llm.name
        self.capabilities = llm.capabilities
        self._options = BrainOptions(max_tool_calls=max_tool_calls)
        self._tools = tools

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        raise ConfigError("ServerToolsLlm wraps a loaded engine; it is not configured on its own")

    async def warm_up(self) -> None:
        await self.llm.warm_up()

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LlmChunk]:
        options = ReplyOptions(
            "",
            max_tokens=max_tokens or 256,
            temperature=0.0 if temperature is None else temperature,
            tools=tuple(tools),
            tool_choice=tool_choice,
        )
        calls: tuple[ToolCall, ...] = ()
        # Each request its own meter: the tokens of every LLM call it made, and how the last one ended.
        meter = MeteredLlm(self.llm)
        brain = Brain(meter, self._options, tools=self._tools)
        async for event in brain.reply(ReplyRequest("chat", tuple(messages), options)):
            if isinstance(event, ReplyText):
                yield LlmChunk(event.text)
            elif isinstance(event, ReplyToolCalls):
                calls = event.calls
        finish = "tool_calls" if calls else meter.finish_reason or "stop"
        yield LlmChunk(tool_calls=calls, finish_reason=finish, usage=meter.usage)

    async def aclose(self) -> None:
        """The wrapped engine belongs to the engine pool."""
