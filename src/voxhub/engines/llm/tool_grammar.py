"""Constrained decoding of a tool call: the JSON schema of one valid call of one offered tool.

llama.cpp turns a request's `json_schema` into a grammar and samples only tokens that keep the output valid,
so what comes back is a call of a tool that was offered, with arguments its schema accepts (the keys it
names, the types and enums it sets). The `local` engine uses it when a request forces a call
(`tool_choice: required` or a tool's name) and the model's chat template knows tools; a model without a
tool template (SmolLM2, the embedded default) is left to the offline agent's tool calls instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from voxhub.engines.llm.base import ToolCall, ToolSpec
from voxhub.errors import EngineError, InputError

_FREE_CHOICES = (None, "auto", "none")


def forces_call(tools: Sequence[ToolSpec], tool_choice: str | None) -> bool:
    """Whether the request must be answered with a tool call (so its output can be constrained to one)."""
    return bool(tools) and tool_choice not in _FREE_CHOICES


def tool_call_schema(tools: Sequence[ToolSpec], tool_choice: str | None = None) -> dict[str, Any]:
    """`{"name": <tool>, "arguments": <its parameters>}` for one of `tools` (only the named one when
    `tool_choice` names a tool); nothing else is a valid output."""
    chosen = _chosen(tools, tool_choice)
    calls = [_call_schema(tool) for tool in chosen]
    return calls[0] if len(calls) == 1 else {"oneOf": calls}


def tool_call_prompt(tools: Sequence[ToolSpec], tool_choice: str | None = None) -> str:
    """The instruction that goes with the schema: the tools, and the JSON shape to answer in."""
    chosen = _chosen(tools, tool_choice)
    listed = "\n".join(
        f"- {tool.name}: {tool.description} Arguments (JSON schema): {json.dumps(dict(tool.parameters))}"
        for tool in chosen
    )
    return (
        "Answer by calling one of these tools, as JSON only: "
        '{"name": <the tool>, "arguments": {<its arguments>}}\n' + listed
    )


def parse_tool_call(text: str, tools: Sequence[ToolSpec]) -> ToolCall:
    """The call a constrained decode wrote. It is valid by construction; one cut short by the token budget
    is not JSON, and is an error."""
    try:
        written = json.loads(text)
    except json.JSONDecodeError:
        raise EngineError(
            "the constrained tool call was cut off before it was complete (raise max_tokens)",
            details={"output": text[-200:]},
        ) from None
    names = {tool.name for tool in tools}
    if not isinstance(written, Mapping) or written.get("name") not in names:
        raise EngineError("the constrained tool call names no offered tool", details={"output": text[-200:]})
    arguments = written.get("arguments") or {}
    return ToolCall(f"call_{uuid.uuid4().hex[:24]}", str(written["name"]), json.dumps(arguments))


def _chosen(tools: Sequence[ToolSpec], tool_choice: str | None) -> list[ToolSpec]:
    if not tools:
        raise InputError("a tool call needs at least one tool")
    if tool_choice in (*_FREE_CHOICES, "required"):
        return list(tools)
    named = [tool for tool in tools if tool.name == tool_choice]
    if not named:
        raise InputError(f"tool_choice {tool_choice!r} is not one of the tools given")
    return named


def _call_schema(tool: ToolSpec) -> dict[str, Any]:
    parameters = dict(tool.parameters) or {"type": "object", "properties": {}}
    return {
        "type": "object",
        "properties": {"name": {"const": tool.name}, "arguments": parameters},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }
