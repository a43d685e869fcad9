"""What calling a tool costs on this machine: the registry's own overhead, and an MCP stdio round trip.

    .venv/bin/python benchmarks/tool_calls.py [--calls 5000] [--mcp-calls 300]

1. registry: JSON parsing + JSON-schema validation + timeout + dispatch for a trivial tool (it returns at
   once), in microseconds, against calling the tool directly.
2. MCP: a call of `add(a, b)` on a real MCP server (the `mcp` SDK's MCPServer) over stdio, through the
   registry, in milliseconds; plus how long the server takes to start and list its tools.
Prints p50/p95/p99 for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from voxhub.agent.tools.base import FunctionTool, ToolResult
from voxhub.agent.tools.mcp_tools import McpServerConfig, McpToolSource
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.engines.llm.base import ToolSpec

SPEC = ToolSpec(
    "get_weather",
    "Weather in a city.",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
        "required": ["city"],
    },
)
MCP_SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("bench")


@server.tool()
def add(a: int, b: int) -> int:
    return a + b


server.run()
"""


async def trivial(arguments: Mapping[str, Any]) -> ToolResult:
    return ToolResult("sunny")


def percentiles(durations_secs: list[float], scale: float, digits: int) -> str:
    ordered = sorted(d * scale for d in durations_secs)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return (
        f"p50 {statistics.median(ordered):.{digits}f} | p95 {at(0.95):.{digits}f} | p99 {at(0.99):.{digits}f}"
    )


async def timed(call: Callable[[], Awaitable[object]], count: int) -> list[float]:
    for _ in range(min(count, 50)):  # warm-up
        await call()
    durations = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        durations.append(time.perf_counter() - start)
    return durations


async def main(calls: int, mcp_calls: int) -> None:
    tool = FunctionTool(SPEC, trivial)
    registry = ToolRegistry()
    registry.register(tool)
    direct = await timed(lambda: tool.call({"city": "Oslo", "days": 2}), calls)
    through = await timed(lambda: registry.call("get_weather", '{"city": "Oslo", "days": 2}'), calls)
    print(f"trivial tool, {calls} calls, µs")
    print(f"  direct call            {percentiles(direct, 1e6, 1)}")
    print(f"  through the registry   {percentiles(through, 1e6, 1)}")

    with tempfile.TemporaryDirectory() as directory:
        server = Path(directory) / "server.py"
        server.write_text(MCP_SERVER)
        source = McpToolSource(McpServerConfig("bench", command=sys.executable, args=(str(server),)))
        started = time.perf_counter()
        for mcp_tool in await source.start():
            registry.register(mcp_tool)
        start_secs = time.perf_counter() - started
        try:
            round_trips = await timed(lambda: registry.call("add", '{"a": 2, "b": 40}'), mcp_calls)
        finally:
            await source.aclose()
    print(f"MCP stdio, {mcp_calls} calls, ms (server start + tools/list: {start_secs * 1000:.0f} ms)")
    print(f"  add(a, b)              {percentiles(round_trips, 1e3, 2)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--mcp-calls", type=int, default=300)
    options = parser.parse_args()
    asyncio.run(main(options.calls, options.mcp_calls))
