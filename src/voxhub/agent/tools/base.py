"""The tool contract: a JSON-schema spec, an async call, and a result the LLM reads (and the user may hear)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from voxhub.engines.llm.base import ToolSpec
from voxhub.errors import VoxhubError

ToolKind = Literal["builtin", "homeassistant", "rest", "template", "mcp", "script", "autofunction"]


class ToolError(VoxhubError):
    """A tool failed; `spoken` is the short apology the user hears instead of a crash."""

    code = "tool_error"
    status_code = 502

    def __init__(
        self, message: str, *, spoken: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.spoken = spoken or "Sorry, I couldn't do that."


class ToolArgumentsError(ToolError):
    """The arguments do not fit the tool's schema: the caller's fault (a 400 for a direct call)."""

    code = "invalid_tool_arguments"
    status_code = 400


class ToolNotFound(VoxhubError):
    code = "tool_not_found"
    status_code = 404


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a call returned: `content` is given back to the LLM as the tool message."""

    content: str
    data: Any = None  # the structured result, for APIs that return it (e.g. /execute/function)


class Tool(Protocol):
    """One callable tool. Arguments arrive already checked against `spec.parameters`."""

    kind: ToolKind
    spec: ToolSpec

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult: ...


class FunctionTool:
    """A tool made of a spec and an async function: for small built-ins and for tests."""

    def __init__(
        self,
        spec: ToolSpec,
        function: Callable[[Mapping[str, Any]], Awaitable[ToolResult]],
        *,
        kind: ToolKind = "builtin",
    ) -> None:
        self.spec = spec
        self.kind = kind
        self._function = function

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        return await self._function(arguments)
