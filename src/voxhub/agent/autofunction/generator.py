"""Ask the LLM to write a tool: one Python function, its JSON-schema parameters, a description and tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from voxhub.engines.llm.base import ChatMessage, LlmEngine, complete
from voxhub.errors import EmptyTextError, InputError, VoxhubError

MAX_DESCRIPTION_CHARS = 2000
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
_FENCE = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)

SYSTEM_PROMPT = """You write small, self-contained Python tools for a voice assistant.
Answer with ONE JSON object and nothing else, with these keys:
  "name": the function's name, snake_case,
  "description": one sentence saying what the tool does (the assistant reads it to decide when to call it),
  "parameters": a JSON schema {"type": "object", "properties": {...}, "required": [...]} of its arguments,
  "source": Python source defining exactly that one function (imports and helpers allowed above it),
  "tests": Python lines that check the function with `assert` statements.
Rules: plain `def` (not async); return JSON-serialisable values; import only math, statistics, datetime,
json, re, random, string, itertools, functools, collections, decimal or fractions; never touch files,
processes, the network, eval/exec/open, dunder attributes or a module's private `_names`; format only
literal strings; no string annotations; no top-level statements besides definitions."""


class GenerationError(VoxhubError):
    """The LLM's answer was not a usable tool definition.

    422, not 502: the model answered, but not with a tool for this description (a vague or empty one, most
    often); the message says what was wrong and the client may describe the tool more precisely.
    """

    code = "autofunction_generation_failed"
    status_code = 422


@dataclass(frozen=True, slots=True)
class GeneratedTool:
    """A tool as the LLM wrote it, not yet checked or run."""

    name: str
    description: str
    source: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    tests: str = ""


def _json_object(reply: str) -> dict[str, Any] | None:
    """The first JSON object in `reply`: whole, inside a ```json fence, or between its outer braces."""
    candidates = [reply.strip()]
    candidates += [body for language, body in _FENCE.findall(reply) if language.lower() in ("json", "")]
    if "{" in reply and "}" in reply:
        candidates.append(reply[reply.index("{") : reply.rindex("}") + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _python_blocks(reply: str) -> list[str]:
    return [body for language, body in _FENCE.findall(reply) if language.lower() in ("python", "py")]


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):  # some models send code as a list of lines
        value = "\n".join(str(line) for line in value)
    return value if isinstance(value, str) else ""


def _function_name_in(source: str) -> str | None:
    match = re.search(r"^def\s+([A-Za-z_]\w*)\s*\(", source, re.MULTILINE)
    return match.group(1) if match else None


def parse_reply(reply: str) -> GeneratedTool:
    """Read a tool from the LLM's reply: a JSON object, or JSON beside ```python blocks (source, then tests)."""
    data = _json_object(reply) or {}
    blocks = _python_blocks(reply)
    source = _text(data, "source") or _text(data, "code")
    tests = _text(data, "tests")
    if not source and blocks:
        source = blocks[0]
        tests = tests or "\n\n".join(blocks[1:])
    details = {"reply": reply[:1000]}
    if not source.strip():
        raise GenerationError("the LLM's answer holds no function source", details=details)
    name = str(data.get("name") or _function_name_in(source) or "")
    if not _NAME.match(name):
        raise GenerationError(
            f"the LLM named the tool {name!r}, not a snake_case identifier", details=details
        )
    parameters = data.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise GenerationError("the LLM's parameters are not a JSON schema of type object", details=details)
    if not isinstance(parameters.get("properties", {}), dict):
        raise GenerationError("the LLM's parameter properties are not an object", details=details)
    description = str(data.get("description") or "").strip()
    return GeneratedTool(
        name=name,
        description=description,
        source=source.strip() + "\n",
        parameters={"type": "object", "properties": {}, **parameters},
        tests=tests.strip() + "\n" if tests.strip() else "",
    )


async def generate_tool(llm: LlmEngine, description: str, *, max_tokens: int = 1500) -> GeneratedTool:
    """Ask `llm` for a tool doing `description`; raises GenerationError when its answer is unusable."""
    description = description.strip()
    if not description:
        raise EmptyTextError("describe the tool to create")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InputError(
            f"the description is over {MAX_DESCRIPTION_CHARS} characters",
            details={"length": len(description)},
        )
    messages = [
        ChatMessage("system", SYSTEM_PROMPT),
        ChatMessage("user", f"Write a tool that: {description}"),
    ]
    reply = await complete(llm, messages, max_tokens=max_tokens, temperature=0.0)
    tool = parse_reply(reply.text)
    return (
        tool
        if tool.description
        else GeneratedTool(tool.name, description, tool.source, tool.parameters, tool.tests)
    )
