"""Tool calls a model wrote as text: bare JSON in its content becomes real `tool_calls`.

Small models and chat templates without a tool syntax the server parses answer a tool request with the call
as text: `{"name": "get_weather", "arguments": {"city": "Paris"}}`, the same in a ```json fence, inside
`<tool_call>` tags, or a list of them. When the request offered tools, an answer that is nothing but such
calls (of tools it offered) is turned into calls; any other answer is text, streamed as it comes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from voxhub.engines.llm.base import LlmChunk, ToolCall, ToolSpec

# How an answer that is a call may begin; an answer that begins otherwise streams at once.
_OPENINGS = ("{", "[", "```", "<tool_call>", "<|tool_call|>", "<functioncall>")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*(.*?)\s*```$", re.S)
_TAGGED = re.compile(r"<(?:\|)?tool_call(?:\|)?>\s*(.*?)\s*(?:</tool_call>|<\|/tool_call\|>|$)", re.S)


async def json_tool_calls(
    chunks: AsyncIterator[LlmChunk], tools: Sequence[ToolSpec]
) -> AsyncIterator[LlmChunk]:
    """`chunks`, with an answer that is only JSON calls of `tools` turned into `tool_calls`."""
    if not tools:
        async for chunk in chunks:
            yield chunk
        return
    names = {tool.name for tool in tools}
    held: list[str] = []
    end = LlmChunk()  # the last chunk's calls, finish reason and usage, while text is held
    passing = False
    async for chunk in chunks:
        if passing or chunk.notice is not None:  # a notice (the chain switched) is never held back
            yield chunk
            continue
        held.append(chunk.text)
        if chunk.tool_calls or chunk.finish_reason or chunk.usage:
            end = LlmChunk(
                tool_calls=end.tool_calls + chunk.tool_calls,
                finish_reason=chunk.finish_reason,
                usage=chunk.usage,
            )
        start = "".join(held).lstrip()
        if not start or any(o.startswith(start[: len(o)]) for o in _OPENINGS):
            continue  # it may still be a call: keep it back
        passing = True
        yield LlmChunk("".join(held), end.tool_calls, end.finish_reason, end.usage)
    if passing:
        return
    text = "".join(held)
    calls = parse_tool_calls(text, names)
    if calls:
        yield LlmChunk(tool_calls=end.tool_calls + calls, finish_reason="tool_calls", usage=end.usage)
    else:
        yield LlmChunk(text, end.tool_calls, end.finish_reason, end.usage)


def parse_tool_calls(text: str, names: set[str] | frozenset[str]) -> tuple[ToolCall, ...]:
    """The calls `text` consists of, if every one names a tool in `names`; () when it is anything else."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    tagged = _TAGGED.findall(body)
    try:
        documents: list[Any] = [json.loads(part) for part in tagged] if tagged else [json.loads(body)]
    except json.JSONDecodeError:
        return ()
    items: list[Any] = []
    for document in documents:
        if isinstance(document, Mapping) and isinstance(document.get("tool_calls"), list):
            document = document["tool_calls"]
        items += document if isinstance(document, list) else [document]
    calls = [_call(item, names) for item in items]
    if not calls or any(call is None for call in calls):
        return ()
    return tuple(call for call in calls if call is not None)


def _call(item: Any, names: set[str] | frozenset[str]) -> ToolCall | None:
    if not isinstance(item, Mapping):
        return None
    function = item.get("function")
    if isinstance(function, Mapping):  # the OpenAI shape: {"type": "function", "function": {...}}
        item = function
        function = None
    name = item.get("name") if function is None else function
    if not isinstance(name, str) or name not in names:
        return None
    arguments = item.get("arguments", item.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return None
    if not isinstance(arguments, Mapping):
        return None
    return ToolCall(f"call_{uuid.uuid4().hex[:24]}", name, json.dumps(dict(arguments)))
