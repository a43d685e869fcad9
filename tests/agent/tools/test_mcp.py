"""MCP tools: a real MCP server (the `mcp` SDK's MCPServer, formerly FastMCP) run over stdio by the test."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.live import free_port
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.mcp_tools import McpServerConfig, McpToolSource
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.errors import ConfigError

SERVER = '''
import asyncio

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("test-tools")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Say it loudly."""
    return text.upper() + "!"


@server.tool()
async def nap(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "awake"


@server.tool()
def crash() -> str:
    """Ends the server process at once."""
    import os

    os._exit(1)


@server.tool()
def refuse(reason: str) -> str:
    """Always fails."""
    raise ToolError(f"refused: {reason}")


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:  # a port: serve streamable HTTP on it
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
    else:
        server.run()
'''


@pytest.fixture(scope="module")
def server_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "server.py"
    path.write_text(SERVER)
    return path


@pytest.fixture(scope="module")
async def source(server_file: Path) -> AsyncIterator[McpToolSource]:
    source = McpToolSource(
        McpServerConfig("test", command=sys.executable, args=(str(server_file),), tool_prefix="test_")
    )
    await source.start()
    yield source
    await source.aclose()


@pytest.fixture
def registry(source: McpToolSource) -> ToolRegistry:
    registry = ToolRegistry()
    for tool in source.tools:
        registry.register(tool)
    return registry


async def test_the_server_tools_are_offered_with_their_schemas(registry: ToolRegistry) -> None:
    specs = {spec.name: spec for spec in registry.specs()}

    assert sorted(specs) == ["test_add", "test_crash", "test_nap", "test_refuse", "test_shout"]
    assert specs["test_add"].description == "Add two integers."
    assert specs["test_add"].parameters["required"] == ["a", "b"]


async def test_a_call_reaches_the_server_and_returns_its_text(registry: ToolRegistry) -> None:
    assert (await registry.call("test_add", '{"a": 2, "b": 40}')).content == "42"
    assert (await registry.call("test_shout", {"text": "hello"})).content == "HELLO!"


async def test_arguments_are_checked_against_the_server_schema(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError) as caught:
        await registry.call("test_add", {"a": "two", "b": 1})

    assert caught.value.details["field"] == "a"


async def test_a_tool_error_from_the_server_is_a_tool_error(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError, match="refused: not today"):
        await registry.call("test_refuse", {"reason": "not today"})


async def test_a_slow_call_times_out_and_the_connection_keeps_serving(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError, match="took longer than"):
        await registry.call("test_nap", {"seconds": 2}, timeout_secs=0.2)

    assert (await registry.call("test_add", {"a": 1, "b": 1})).content == "2"


async def test_a_server_that_cannot_start_is_a_tool_error(tmp_path: Path) -> None:
    crashing = tmp_path / "crash.py"
    crashing.write_text("raise SystemExit(3)\n")
    source = McpToolSource(
        McpServerConfig("crash", command=sys.executable, args=(str(crashing),), connect_timeout_secs=10)
    )

    with pytest.raises(ToolError, match="MCP server 'crash'"):
        await source.start()
    assert not source.connected


async def test_calls_after_closing_are_a_tool_error(server_file: Path) -> None:
    source = McpToolSource(McpServerConfig("short", command=sys.executable, args=(str(server_file),)))
    tools = await source.start()
    await source.aclose()

    with pytest.raises(ToolError, match="not connected"):
        await tools[0].call({"a": 1, "b": 2})


def test_a_server_needs_exactly_one_transport() -> None:
    with pytest.raises(ConfigError, match="exactly one of `command` or `url`"):
        McpServerConfig("both", command="x", url="http://localhost/mcp")


async def _wait_for_port(port: int, timeout_secs: float = 20.0) -> None:
    async with asyncio.timeout(timeout_secs):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
            else:
                writer.close()
                return


@pytest.mark.slow
async def test_a_server_over_streamable_http_serves_the_same_tools(server_file: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(server_file), str(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await _wait_for_port(port)
        source = McpToolSource(McpServerConfig("web", url=f"http://127.0.0.1:{port}/mcp"))
        tools = {tool.spec.name: tool for tool in await source.start()}
        try:
            assert (await tools["add"].call({"a": 20, "b": 22})).content == "42"
        finally:
            await source.aclose()
    finally:
        process.terminate()
        await process.wait()


async def test_a_server_that_died_is_started_again_for_the_next_call(server_file: Path) -> None:
    source = McpToolSource(McpServerConfig("phoenix", command=sys.executable, args=(str(server_file),)))
    tools = {tool.spec.name: tool for tool in await source.start()}

    with pytest.raises(ToolError, match="phoenix"):
        await tools["crash"].call({})
    answer = await tools["add"].call({"a": 20, "b": 22})
    await source.aclose()

    assert answer.content == "42"
