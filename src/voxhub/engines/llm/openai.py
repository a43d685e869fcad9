"""The `openai` LLM engine: streamed chat completions with tools from any OpenAI-compatible API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from voxhub.engines.llm.base import (
    LOOP_CUT,
    ChatMessage,
    LlmCapabilities,
    LlmChunk,
    LlmUsage,
    ToolCall,
    ToolSpec,
)
from voxhub.engines.llm.clean_cut import ANSWER_CUT, CleanCut
from voxhub.engines.llm.repetition import RepetitionGuard
from voxhub.engines.openai_service import api_key_of, make_client, require_base_url, service_errors
from voxhub.errors import InputError

if TYPE_CHECKING:
    from voxhub.config import Settings

_CHOICE_WORDS = ("auto", "none", "required")


@dataclass(slots=True)
class _PartialCall:
    """A tool call as its deltas arrive: id and name once, arguments in pieces."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def finish(self) -> ToolCall:
        return ToolCall(
            self.id or f"call_{uuid.uuid4().hex[:24]}", self.name, "".join(self.arguments) or "{}"
        )


class OpenAiLlm:
    """Chat with an OpenAI-compatible server through the official SDK, streaming."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        timeout_secs: float = 30.0,
        connect_timeout_secs: float = 2.0,
        max_tokens: int = 256,
        temperature: float = 0.7,
        context_tokens: int = 8192,
        tool_calling: bool = True,
        service: str = "the OpenAI-compatible LLM service",
        loopback: bool = False,
        sampling: Mapping[str, Any] | None = None,
        repetition_guard: bool = False,
    ) -> None:
        self._client = make_client(
            base_url, api_key, timeout_secs, loopback=loopback, connect_timeout_secs=connect_timeout_secs
        )
        self._base_url = base_url
        self._api_key = api_key
        self._model = model
        self._max_tokens = max_tokens
        self._temperature = temperature
        self._service = service
        # Extra body fields for servers that know them (llama.cpp: repeat_penalty, dry_multiplier...).
        self.sampling: dict[str, Any] = dict(sampling or {})
        self.repetition_guard = repetition_guard  # cut an answer that loops (see `RepetitionGuard`)
        self.capabilities = LlmCapabilities(
            model=model, context_tokens=context_tokens, tool_calling=tool_calling
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        # The remote context window is unknown; llm_context_tokens stays the budget for trimming history.
        return cls(
            base_url=require_base_url(settings),
            api_key=api_key_of(settings),
            model=settings.openai_llm_model,
            timeout_secs=settings.openai_timeout_secs,
            connect_timeout_secs=settings.openai_connect_timeout_secs,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            context_tokens=settings.llm_context_tokens,
            repetition_guard=settings.openai_repetition_guard,
        )

    @property
    def base_url(self) -> str:
        """The service's OpenAI-compatible base URL (for the health check)."""
        return self._base_url

    @property
    def api_key(self) -> str | None:
        return self._api_key

    async def warm_up(self) -> None:
        """Nothing to load; a remote service is checked by the first request, not at start-up."""

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[LlmChunk]:
        """Stream the reply: text deltas as they come, then tool calls, finish reason and usage together.

        An answer the budget cuts ends at its last whole sentence (`CleanCut`), with an `answer_cut` notice
        saying what was left unsaid; its finish reason stays `length`. `extra`: more body fields for this
        request (llama.cpp's `json_schema`, say)."""
        budget = max_tokens or self._max_tokens
        request: dict[str, Any] = {
            "model": self._model,
            "messages": [_wire_message(message) for message in messages],
            "max_tokens": budget,
            "temperature": self._temperature if temperature is None else temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.sampling or extra:
            request["extra_body"] = {**self.sampling, **(extra or {})}
        if tools:
            request["tools"] = [_wire_tool(tool) for tool in tools]
            if tool_choice is not None:
                request["tool_choice"] = _wire_tool_choice(tool_choice, tools)
        calls: dict[int, _PartialCall] = {}
        finish_reason: str | None = None
        usage: LlmUsage | None = None
        guard = RepetitionGuard() if self.repetition_guard else None
        cut = CleanCut(budget)
        with service_errors(self._service, self._base_url, self._api_key):
            # `async with` closes the connection even when the caller stops reading early (barge-in), and
            # when the guard stops a loop: the server then stops generating.
            async with await self._client.chat.completions.create(**request) as stream:
                async for event in stream:
                    if event.usage is not None:
                        usage = LlmUsage(event.usage.prompt_tokens, event.usage.completion_tokens)
                    if not event.choices:
                        continue
                    choice = event.choices[0]
                    for piece in choice.delta.tool_calls or ():
                        # Servers that send each call whole may leave out `index`; order then identifies it.
                        index = piece.index if piece.index is not None else len(calls)
                        partial = calls.setdefault(index, _PartialCall())
                        partial.id = partial.id or piece.id or ""
                        if piece.function is not None:
                            partial.name = partial.name or piece.function.name or ""
                            if piece.function.arguments:
                                partial.arguments.append(piece.function.arguments)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                    text = choice.delta.content or ""
                    tokens = 1 if text else 0  # a streamed delta is a token (llama.cpp, Ollama, vLLM)
                    if guard is not None:
                        text = guard.push(text)
                    text = cut.push(text, tokens)
                    if text:
                        yield LlmChunk(text=text)
                    if guard is not None and guard.looped:
                        finish_reason = LOOP_CUT
                        break
        held = cut.push(guard.flush(), 0) if guard is not None else ""
        ending = cut.end(finish_reason)
        if held + ending.text:
            yield LlmChunk(text=held + ending.text)
        if ending.dropped:
            yield LlmChunk(notice=(ANSWER_CUT, {"finish_reason": finish_reason, "dropped": ending.dropped}))
        yield LlmChunk(
            tool_calls=tuple(calls[index].finish() for index in sorted(calls)),
            finish_reason=finish_reason or "stop",
            usage=usage,
        )

    async def aclose(self) -> None:
        await self._client.close()


def _wire_message(message: ChatMessage) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id
        return wire
    if message.name:
        wire["name"] = message.name
    if message.tool_calls:
        # OpenAI wants null, not "", beside tool calls that came without text.
        wire["content"] = message.content or None
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json},
            }
            for call in message.tool_calls
        ]
    return wire


def _wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)},
    }


def _wire_tool_choice(tool_choice: str, tools: Sequence[ToolSpec]) -> str | dict[str, Any]:
    if tool_choice in _CHOICE_WORDS:
        return tool_choice
    if tool_choice not in {tool.name for tool in tools}:
        names = ", ".join(tool.name for tool in tools)
        raise InputError(f"tool_choice {tool_choice!r} is not one of the tools given ({names})")
    return {"type": "function", "function": {"name": tool_choice}}
