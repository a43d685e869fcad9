"""Assemble every tool the settings ask for (built-ins, a functions file, MCP servers) in one call."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from voxhub.agent.tools.base import Tool
from voxhub.agent.tools.builtin import builtin_tools
from voxhub.agent.tools.extended_openai import FunctionsImport, ToolFactory, load_functions_file
from voxhub.agent.tools.mcp_tools import McpServerConfig, McpToolSource, start_sources
from voxhub.agent.tools.registry import ToolOutcome, ToolRegistry, run_tool_calls
from voxhub.agent.tools.timers import TimerService
from voxhub.config import Settings
from voxhub.engines.llm.base import ToolCall
from voxhub.errors import VoxhubError

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Toolbox:
    """The registry with what it was built from; `aclose()` ends MCP servers, timers and HTTP connections."""

    registry: ToolRegistry
    timers: TimerService
    max_calls_per_turn: int
    functions: FunctionsImport | None = None
    mcp_sources: list[McpToolSource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be loaded, for logs and /health

    async def run(self, calls: Sequence[ToolCall]) -> list[ToolOutcome]:
        """Run one turn's tool calls under the per-turn limit."""
        return await run_tool_calls(self.registry, calls, max_calls=self.max_calls_per_turn)

    async def aclose(self) -> None:
        await self.registry.aclose()


async def build_toolbox(
    settings: Settings,
    *,
    extra_tools: Sequence[Tool] = (),
    native_factories: Mapping[str, ToolFactory] | None = None,
    script_factory: ToolFactory | None = None,
    timers: TimerService | None = None,
) -> Toolbox:
    """Built-ins, then `extra_tools` (e.g. Home Assistant's), the functions file and MCP servers.

    A tool that cannot load is left out and listed in `problems`; the server still starts. A later tool
    with a name already taken is left out too (built-ins and extra tools win).
    """
    registry = ToolRegistry(timeout_secs=settings.tools_timeout_secs)
    timers = timers or TimerService()
    registry.on_close(timers.aclose)
    toolbox = Toolbox(registry, timers, settings.tools_max_calls_per_turn)
    _register_all(toolbox, [*builtin_tools(timers), *extra_tools])

    if settings.tools_functions_file is not None:
        http_client = httpx.AsyncClient(timeout=settings.tools_timeout_secs)
        registry.on_close(http_client.aclose)
        try:
            toolbox.functions = load_functions_file(
                settings.tools_functions_file,
                native_factories=native_factories,
                script_factory=script_factory,
                http_client=http_client,
                rest_timeout_secs=settings.tools_timeout_secs,
            )
        except VoxhubError as exc:
            toolbox.problems.append(exc.message)
        else:
            toolbox.problems += [f"{item.name}: {item.reason}" for item in toolbox.functions.skipped]
            _register_all(toolbox, toolbox.functions.tools)

    if settings.mcp_servers:
        configs = [
            McpServerConfig(
                name=server.name,
                command=server.command,
                args=tuple(server.args),
                env=server.env,
                url=server.url,
                headers=server.headers,
                tool_prefix=server.tool_prefix,
            )
            for server in settings.mcp_servers
        ]
        sources, tools, problems = await start_sources(configs)
        for source in sources:
            registry.on_close(source.aclose)
        toolbox.mcp_sources = sources
        toolbox.problems += problems
        _register_all(toolbox, tools)

    for problem in toolbox.problems:
        logger.warning("tools: %s", problem)
    logger.info("tools: %d ready: %s", len(registry), ", ".join(registry.names()))
    return toolbox


async def build_registry(settings: Settings, *, extra_tools: Sequence[Tool] = ()) -> ToolRegistry:
    """Just the registry (close it with `await registry.aclose()`); see `build_toolbox` for the rest."""
    return (await build_toolbox(settings, extra_tools=extra_tools)).registry


def _register_all(toolbox: Toolbox, tools: Sequence[Tool]) -> None:
    for tool in tools:
        try:
            toolbox.registry.register(tool)
        except VoxhubError as exc:
            toolbox.problems.append(f"{tool.spec.name}: {exc.message}")
