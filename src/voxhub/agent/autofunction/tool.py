"""An approved generated tool as the agent sees it: every call runs in a fresh sandbox."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from voxhub.agent.autofunction.sandbox import Sandbox
from voxhub.agent.autofunction.store import AutoFunction
from voxhub.agent.tools.base import ToolError, ToolKind, ToolResult
from voxhub.engines.llm.base import ToolSpec


class AutoFunctionTool:
    """The Tool protocol over one AutoFunction definition."""

    kind: ToolKind = "autofunction"

    def __init__(self, definition: AutoFunction, sandbox: Sandbox) -> None:
        self.definition = definition
        self.spec = ToolSpec(definition.name, definition.description, definition.parameters)
        self._sandbox = sandbox

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        definition = self.definition
        result = await self._sandbox.call(definition.source, definition.function, arguments)
        if not result.ok:
            error = result.error
            reason = f"{error.type}: {error.message}" if error else "unknown failure"
            raise ToolError(
                f"generated tool {definition.name!r} failed: {reason}",
                spoken=f"Sorry, my {definition.name.replace('_', ' ')} tool failed.",
                details={"tool": definition.name, "id": definition.id, **result.to_dict()},
            )
        value = result.value
        content = value if isinstance(value, str) else json.dumps(value)
        return ToolResult(content, data=value)
