"""MCP tools: every tool of a Model Context Protocol server (stdio or streamable HTTP) as a voxhub tool.

The MCP client's transports run anyio task groups, which must be entered and left by the same task. So one
background task per server owns the connection from start to close; calls are plain requests on its session
and may come from any task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
import mcp_types
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from voxhub.agent.tools.base import Tool, ToolError, ToolKind, ToolResult
from voxhub.engines.llm.base import ToolSpec
from voxhub.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One MCP server: a command to run (stdio) or a streamable HTTP URL."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    tool_prefix: str = ""  # e.g. "files_": tool `read` is offered as `files_read`
    connect_timeout_secs: float = 30.0

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ConfigError(f"MCP server {self.name!r}: give exactly one of `command` or `url`")


class McpTool:
    """One tool of an MCP server; calls go through its source's connection."""

    kind: ToolKind = "mcp"

    def __init__(self, source: McpToolSource, remote: mcp_types.Tool) -> None:
        self.source = source
        self.remote_name = remote.name
        parameters = dict(remote.input_schema or {}) or {"type": "object", "properties": {}}
        self.spec = ToolSpec(
            name=source.config.tool_prefix + remote.name,
            description=remote.description or remote.title or remote.name,
            parameters=parameters,
        )

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        return await self.source.call_tool(self.remote_name, arguments)


class McpToolSource:
    """The connection to one MCP server: `await start()` lists its tools, `await aclose()` ends it."""

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.tools: tuple[McpTool, ...] = ()
        self._client: Client | None = None
        self._owner: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._closed = False  # closed on purpose (`aclose`): calls fail rather than reconnect
        self._reconnecting = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def start(self) -> tuple[McpTool, ...]:
        """Connect and list the server's tools; a server that cannot be reached is a ToolError."""
        if self._owner is not None:
            return self.tools
        ready: asyncio.Future[tuple[McpTool, ...]] = asyncio.get_running_loop().create_future()
        self._owner = asyncio.create_task(self._own_connection(ready), name=f"mcp-{self.config.name}")
        try:
            async with asyncio.timeout(self.config.connect_timeout_secs):
                self.tools = await asyncio.shield(ready)
        except TimeoutError:
            await self._stop()
            raise ToolError(
                f"MCP server {self.config.name!r} did not answer within {self.config.connect_timeout_secs:g} s"
            ) from None
        except BaseException:
            await self._stop()
            raise
        logger.info(
            "MCP server %s: %d tools",
            self.config.name,
            len(self.tools),
            extra={"mcp_server": self.config.name},
        )
        return self.tools

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        server = self.config.name
        if self._closed:
            raise ToolError(f"MCP server {server!r} is not connected", details={"mcp_server": server})
        if self._client is None:  # it died since the last call: start it again
            await self._reconnect()
        client = self._client
        assert client is not None
        try:
            result = await client.call_tool(name, dict(arguments))
        except MCPError as exc:
            if _connection_lost(exc):
                self._forget(client)  # the next call starts the server again
            raise ToolError(
                f"MCP server {server!r}, tool {name!r}: {exc}", details={"mcp_server": server}
            ) from None
        except (OSError, EOFError, RuntimeError) as exc:  # the server went away mid-call
            self._forget(client)
            raise ToolError(
                f"MCP server {server!r} failed during {name!r}: {type(exc).__name__}: {exc}",
                details={"mcp_server": server},
            ) from None
        content = _text_of(result.content)
        if result.is_error:
            raise ToolError(
                f"MCP tool {name!r} failed: {content or 'no details'}", details={"mcp_server": server}
            )
        data = result.structured_content if result.structured_content is not None else content
        return ToolResult(content, data=data)

    async def _reconnect(self) -> None:
        """Start the server again (once, however many calls are waiting for it)."""
        async with self._reconnecting:
            if self._client is not None:
                return
            logger.warning(
                "MCP server %s: reconnecting", self.config.name, extra={"mcp_server": self.config.name}
            )
            await self._stop()
            self._closing = asyncio.Event()
            await self.start()

    def _forget(self, client: Client) -> None:
        if self._client is client:
            self._client = None

    async def aclose(self) -> None:
        self._closed = True
        await self._stop()

    async def _stop(self) -> None:
        self._closing.set()
        owner, self._owner = self._owner, None
        if owner is not None:
            try:
                async with asyncio.timeout(10):
                    await owner
            except TimeoutError:
                owner.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await owner
            except Exception:
                logger.debug("MCP server %s closed with an error", self.config.name, exc_info=True)

    async def _own_connection(self, ready: asyncio.Future[tuple[McpTool, ...]]) -> None:
        """Enter, serve and leave the connection, all in this one task."""
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = await stack.enter_async_context(Client(await self._transport(stack)))
                tools = await self._list_tools(client)
                self._client = client
                if not ready.done():
                    ready.set_result(tools)
                await self._closing.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(
                    ToolError(f"MCP server {self.config.name!r} failed to start: {type(exc).__name__}: {exc}")
                )
            else:
                logger.exception("MCP server %s connection ended", self.config.name)
        finally:
            self._client = None
            if not ready.done():
                ready.set_exception(ToolError(f"MCP server {self.config.name!r} closed before it was ready"))

    async def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        config = self.config
        if config.command is not None:
            return StdioServerParameters(command=config.command, args=list(config.args), env=dict(config.env))
        assert config.url is not None
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers=dict(config.headers), timeout=httpx2.Timeout(30.0, read=300.0))
        )
        return streamable_http_client(config.url, http_client=http)

    async def _list_tools(self, client: Client) -> tuple[McpTool, ...]:
        tools: list[McpTool] = []
        cursor: str | None = None
        for _ in range(100):  # a server that pages forever cannot hang start-up
            listing = await client.list_tools(cursor=cursor)
            tools += [McpTool(self, remote) for remote in listing.tools]
            cursor = listing.next_cursor
            if not cursor:
                break
        return tuple(tools)


def _connection_lost(error: MCPError) -> bool:
    return "connection closed" in str(error).lower()


def _text_of(content: list[mcp_types.ContentBlock]) -> str:
    """Text parts joined; other parts (images, audio, resources) named, since a voice reply cannot show them."""
    parts = []
    for block in content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        else:
            parts.append(f"[{block.type}]")
    return "\n".join(parts)


async def start_sources(configs: list[McpServerConfig]) -> tuple[list[McpToolSource], list[Tool], list[str]]:
    """Start every server at once; one that fails is reported (not raised) so the others still serve."""
    sources = [McpToolSource(config) for config in configs]
    outcomes = await asyncio.gather(*(source.start() for source in sources), return_exceptions=True)
    started: list[McpToolSource] = []
    tools: list[Tool] = []
    problems: list[str] = []
    for source, outcome in zip(sources, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            logger.error("%s", outcome)
            problems.append(str(outcome))
        else:
            started.append(source)
            tools += outcome
    return started, tools, problems
