"""An engine wrapper that keeps the accounts of every answer made through it: tokens and how each ended."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Self

from voxhub.engines.llm.base import ChatMessage, LlmChunk, LlmEngine, LlmUsage, ToolSpec
from voxhub.errors import ConfigError

if TYPE_CHECKING:
    from voxhub.config import Settings


class MeteredLlm:
    """`llm`, counting: `usage` sums what the engine reported over all its answers (None once one reported
    nothing), `finish_reason` is how the last answer ended."""

    def __init__(self, llm: LlmEngine) -> None:
        self.llm = llm
        self.name = llm.name
        self.capabilities = llm.capabilities
        self.usage: LlmUsage | None = None
        self.finish_reason: str | None = None
        self._answers = 0
        self._unreported = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        raise ConfigError("MeteredLlm wraps a loaded engine; it is not configured on its own")

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
        self._answers += 1
        self.finish_reason = None
        usage: LlmUsage | None = None
        chunks = self.llm.chat(
            messages, tools=tools, tool_choice=tool_choice, max_tokens=max_tokens, temperature=temperature
        )
        try:
            async for chunk in chunks:
                usage = chunk.usage or usage
                self.finish_reason = chunk.finish_reason or self.finish_reason
                yield chunk
        finally:
            self._count(usage)

    def _count(self, usage: LlmUsage | None) -> None:
        self._unreported = self._unreported or usage is None
        if self._unreported:
            self.usage = None
            return
        assert usage is not None
        before = self.usage or LlmUsage(0, 0)
        self.usage = LlmUsage(
            before.prompt_tokens + usage.prompt_tokens, before.completion_tokens + usage.completion_tokens
        )

    async def aclose(self) -> None:
        """The wrapped engine belongs to whoever made it."""
