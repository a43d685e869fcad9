"""Scripted LLM engines: they answer from a script or fail as a remote LLM does, and remember each request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from voxhub.engines.llm.base import ChatMessage, LlmCapabilities, LlmChunk, ToolSpec
from voxhub.errors import EngineError


@dataclass
class ScriptedLlm:
    """Says `answer` one word per chunk, at most `max_tokens` words (a word is a token), ending `length`
    when that cuts it; with `fail_status` set it fails before its first word, as an HTTP error would."""

    answer: str = "Okay."
    fail_status: int | None = None
    name: str = "scripted"
    capabilities: LlmCapabilities = field(default_factory=lambda: LlmCapabilities("scripted", 8192, False))
    requests: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: object) -> Self:
        raise NotImplementedError

    async def warm_up(self) -> None:
        pass

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LlmChunk]:
        self.requests.append({"messages": list(messages), "max_tokens": max_tokens})
        if self.fail_status is not None:
            raise EngineError(f"HTTP {self.fail_status}", details={"status": self.fail_status})
        words = self.answer.split()
        said = words[:max_tokens] if max_tokens else words
        for index, word in enumerate(said):
            yield LlmChunk(text=word if index == 0 else " " + word)
        yield LlmChunk(finish_reason="length" if len(said) < len(words) else "stop")

    async def aclose(self) -> None:
        pass
