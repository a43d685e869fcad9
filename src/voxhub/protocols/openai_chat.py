"""OpenAI-compatible `POST /v1/chat/completions`: messages and tools in, a completion or an SSE stream out."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from voxhub.agent.client_tools import ClientToolsLlm
from voxhub.agent.server_tools import ServerToolsLlm
from voxhub.api.errors import error_body
from voxhub.api.state import ServerState, State
from voxhub.engines.llm.base import LOOP_CUT, ChatMessage, LlmChunk, LlmEngine, LlmUsage, ToolCall, ToolSpec
from voxhub.engines.registry import ENGINES
from voxhub.errors import InputError, VoxhubError
from voxhub.protocols.openai_stop import StopCutter, stop_sequences
from voxhub.sessions.models import HistoryMessage

router = APIRouter(tags=["openai"])
T = TypeVar("T")

_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_CHARS_PER_TOKEN = 4  # the usual rule of thumb for English, used only when an engine reports no usage


class _Lenient(BaseModel):
    """Fields voxhub does not use (`logprobs`, `seed`, `metadata`...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")


class FunctionDef(_Lenient):
    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolDef(_Lenient):
    type: Literal["function"] = "function"
    function: FunctionDef


class WireFunctionCall(_Lenient):
    name: str
    arguments: str = "{}"


class WireToolCall(_Lenient):
    id: str
    type: Literal["function"] = "function"
    function: WireFunctionCall


class WireMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[WireToolCall] | None = None
    tool_call_id: str | None = None
    function_call: WireFunctionCall | None = None


class ChatCompletionRequest(_Lenient):
    model: str = ""
    messages: list[WireMessage] = Field(min_length=1)
    tools: list[ToolDef] | None = None
    tool_choice: str | dict[str, Any] | None = None
    functions: list[FunctionDef] | None = None
    function_call: str | dict[str, Any] | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    stop: str | list[str] | None = None  # up to 4 sequences; the answer ends before the first
    n: int = Field(default=1, ge=1, le=1, description="Only one choice is generated.")
    user: str | None = Field(default=None, max_length=256)


@dataclass
class _Turn:
    """One request translated for the engine, and how its answer is worded back."""

    messages: list[ChatMessage]
    tools: list[ToolSpec]
    tool_choice: str | None
    legacy: bool  # answered with `function_call` rather than `tool_calls`
    session_id: str | None
    options: dict[str, Any] = field(default_factory=dict)
    stop: tuple[str, ...] = ()


@router.post("/chat/completions", summary="OpenAI-compatible chat completion (streaming with `stream`)")
async def chat_completions(body: ChatCompletionRequest, state: State) -> Response:
    turn = _translate(body)
    engine = await _llm(state, body.model)
    if state.assistant is not None and state.assistant.tools is not None:
        tools = state.assistant.tools
        engine = ServerToolsLlm(engine, tools, max_tool_calls=state.settings.tools_max_calls_per_turn)
    # Commands on the client's devices become calls of its own service tool, even if the model has no tools.
    offline = state.assistant.offline if state.assistant is not None else None
    engine = ClientToolsLlm(engine, offline, offline_first=state.settings.agent_offline_first)
    if turn.session_id is not None:
        await state.sessions.get_or_create(turn.session_id)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        stream = _sse(state, engine, turn, completion_id, include_usage)
        first = await anext(
            stream
        )  # so an engine that fails at once gives an HTTP error, not a broken stream
        return StreamingResponse(_prepend(first, stream), media_type="text/event-stream")
    async with state.connections.turn_slot():
        text: list[str] = []
        last = LlmChunk()
        cutter = StopCutter(turn.stop)
        chunks = engine.chat(turn.messages, tools=turn.tools, **turn.options)
        async with contextlib.aclosing(chunks):  # type: ignore[type-var]
            async for chunk in chunks:
                text.append(cutter.push(chunk.text))
                if cutter.stopped:
                    last = LlmChunk(finish_reason="stop")
                    break
                last = chunk if chunk.finish_reason or chunk.tool_calls or chunk.usage else last
        text.append(cutter.flush())
    answer = "".join(text)
    await _record(state, turn, answer)
    message: dict[str, Any] = {"role": "assistant", "content": answer or (None if last.tool_calls else "")}
    message.update(_wire_calls(last.tool_calls, turn.legacy, streamed=False))
    choice = {"index": 0, "message": message, "finish_reason": _finish_reason(last, turn.legacy)}
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": engine.capabilities.model,
            "choices": [choice],
            "usage": _usage(last.usage, turn.messages, answer, last.tool_calls),
        }
    )


async def _llm(state: ServerState, model: str) -> LlmEngine:
    """The engine `model` names if it names a registered one, else the default (clients send their own)."""
    return await state.engines.get("llm", model if model in ENGINES["llm"] else None)


def _translate(body: ChatCompletionRequest) -> _Turn:
    tools = [_spec(tool.function) for tool in body.tools or ()] + [_spec(f) for f in body.functions or ()]
    legacy = bool(body.functions) and not body.tools
    choice = _tool_choice(body.tool_choice if body.tool_choice is not None else body.function_call, tools)
    if choice == "none":
        tools = []  # honoured here, not left to the model: some clients loop when a spent budget is ignored
    options: dict[str, Any] = {
        "max_tokens": body.max_completion_tokens or body.max_tokens,
        "temperature": body.temperature,
    }
    if tools or choice == "none":  # "none" also keeps the server's own tools out
        options["tool_choice"] = choice
    return _Turn(
        messages=_messages(body.messages),
        tools=tools,
        tool_choice=choice,
        legacy=legacy,
        session_id=_session_id(body.user),
        options=options,
        stop=stop_sequences(body.stop),
    )


def _spec(function: FunctionDef) -> ToolSpec:
    return ToolSpec(function.name, function.description, function.parameters)


def _tool_choice(choice: str | dict[str, Any] | None, tools: Sequence[ToolSpec]) -> str | None:
    """`auto`, `none`, `required` or a tool's name, from the `tool_choice` or legacy `function_call` shape."""
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise InputError(
                f"tool_choice {choice!r} is not one of: auto, none, required, or a named function",
                details={"tool_choice": choice, "supported": ["auto", "none", "required"]},
            )
        return choice
    name = (choice.get("function") or {}).get("name") or choice.get("name")
    if not isinstance(name, str) or name not in {tool.name for tool in tools}:
        raise InputError(
            f"tool_choice names {name!r}, which is not among the tools sent",
            details={"tool_choice": choice, "tools": [tool.name for tool in tools]},
        )
    return name


def _messages(wire: Sequence[WireMessage]) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    legacy_ids: dict[str, str] = {}  # legacy function results name their function, not a call id
    for index, message in enumerate(wire):
        content = _text(message.content, index)
        if message.role in ("system", "developer"):
            messages.append(ChatMessage("system", content, name=message.name))
        elif message.role == "user":
            messages.append(ChatMessage("user", content, name=message.name))
        elif message.role == "assistant":
            calls = [ToolCall(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or ()]
            if message.function_call is not None:
                call_id = legacy_ids[message.function_call.name] = f"call_legacy_{index}"
                calls.append(ToolCall(call_id, message.function_call.name, message.function_call.arguments))
            messages.append(ChatMessage("assistant", content, tool_calls=tuple(calls), name=message.name))
        elif message.role == "tool":
            if not message.tool_call_id:
                raise InputError(
                    f"messages[{index}]: a tool message needs the tool_call_id it answers",
                    details={"message": index},
                )
            messages.append(ChatMessage("tool", content, tool_call_id=message.tool_call_id))
        else:  # legacy "function" result
            call_id = legacy_ids.get(message.name or "", f"call_legacy_{message.name}")
            messages.append(ChatMessage("tool", content, tool_call_id=call_id, name=message.name))
    return messages


def _text(content: str | list[dict[str, Any]] | None, index: int) -> str:
    """A message's text: the string, or its text parts joined; other parts (images, audio) are refused."""
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for part in content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise InputError(
                f"messages[{index}]: only text content parts are supported, got {part.get('type')!r}",
                details={"message": index, "supported": ["text"]},
            )
        texts.append(part["text"])
    return "\n".join(texts)


def _session_id(user: str | None) -> str | None:
    """The session a `user` maps to: the value itself when it is a valid session id, else a stable digest."""
    if not user:
        return None
    if _SESSION_ID.fullmatch(user):
        return user
    return f"user-{hashlib.sha256(user.encode()).hexdigest()[:32]}"


async def _record(state: ServerState, turn: _Turn, answer: str) -> None:
    """Append a new user message and a text answer to the `user`'s session history."""
    if turn.session_id is None:
        return
    new: list[HistoryMessage] = []
    if turn.messages[-1].role == "user":  # a request that only returns tool results adds no user turn
        new.append(HistoryMessage("user", turn.messages[-1].content))
    if answer:
        new.append(HistoryMessage("assistant", answer))
    if new:
        await state.sessions.append(turn.session_id, new)


def _wire_calls(calls: Sequence[ToolCall], legacy: bool, *, streamed: bool) -> dict[str, Any]:
    if not calls:
        return {}
    if legacy:  # the legacy shape has room for one call
        return {"function_call": {"name": calls[0].name, "arguments": calls[0].arguments_json}}
    wired = []
    for index, call in enumerate(calls):
        entry = {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments_json},
        }
        wired.append({"index": index, **entry} if streamed else entry)
    return {"tool_calls": wired}


def _finish_reason(last: LlmChunk, legacy: bool) -> str:
    if last.tool_calls:
        return "function_call" if legacy else "tool_calls"
    # An answer the engine cut because it looped is incomplete, as at the token cap.
    return "length" if last.finish_reason in ("length", LOOP_CUT) else "stop"


def _usage(
    usage: LlmUsage | None, messages: Sequence[ChatMessage], answer: str, calls: Sequence[ToolCall]
) -> dict[str, int]:
    """The engine's token counts, or an estimate from the text length when it reports none."""
    if usage is None:
        prompt_chars = sum(
            len(m.content) + sum(len(c.arguments_json) for c in m.tool_calls) for m in messages
        )
        answer_chars = len(answer) + sum(len(c.name) + len(c.arguments_json) for c in calls)
        usage = LlmUsage(-(-prompt_chars // _CHARS_PER_TOKEN), -(-answer_chars // _CHARS_PER_TOKEN))
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


async def _sse(
    state: ServerState, engine: LlmEngine, turn: _Turn, completion_id: str, include_usage: bool
) -> AsyncIterator[str]:
    """The completion as `chat.completion.chunk` events, then `[DONE]`; a failure mid-way is an error event."""
    base = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": engine.capabilities.model,
    }

    def event(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        return f"data: {json.dumps(chunk)}\n\n"

    text: list[str] = []
    last = LlmChunk()
    cutter = StopCutter(turn.stop)
    async with state.connections.turn_slot():
        stream = engine.chat(turn.messages, tools=turn.tools, **turn.options)
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            # A failure before anything is sent propagates: the caller answers with an HTTP error.
            first = await anext(stream, LlmChunk())
            yield event({"role": "assistant", "content": ""})
            try:
                async for chunk in _prepend(first, stream):
                    piece = cutter.push(chunk.text)
                    if piece:
                        text.append(piece)
                        yield event({"content": piece})
                    if cutter.stopped:  # the rest is not wanted: closing the stream stops the engine
                        last = LlmChunk(finish_reason="stop")
                        break
                    last = chunk if chunk.finish_reason or chunk.tool_calls or chunk.usage else last
            except VoxhubError as exc:
                error = error_body(exc.status_code, exc.code, exc.message, exc.details)
                yield f"data: {json.dumps(error)}\n\n"
                yield "data: [DONE]\n\n"
                return
    held = cutter.flush()
    if held:
        text.append(held)
        yield event({"content": held})
    answer = "".join(text)
    await _record(state, turn, answer)
    calls = _wire_calls(last.tool_calls, turn.legacy, streamed=True)
    if calls:
        yield event(calls)
    yield event({}, _finish_reason(last, turn.legacy))
    if include_usage:
        usage = _usage(last.usage, turn.messages, answer, last.tool_calls)
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


async def _prepend(first: T, rest: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for item in rest:
        yield item
