"""One call builds every tool the settings name: built-ins, a functions file, MCP servers, extra tools."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.agent.tools.test_mcp import SERVER
from voxhub.agent.tools.base import FunctionTool, ToolResult
from voxhub.agent.tools.loader import build_toolbox
from voxhub.config import load_settings
from voxhub.engines.llm.base import ToolCall, ToolSpec

FUNCTIONS = """
- spec:
    name: greet
    description: Greet someone
    parameters: {type: object, properties: {who: {type: string}}, required: [who]}
  function:
    type: template
    value_template: "Hello {{ who }}!"
- spec:
    name: history
    description: History
  function:
    type: native
    name: get_history
"""


async def lights(arguments: Mapping[str, Any]) -> ToolResult:
    return ToolResult("lights on")


async def test_the_toolbox_has_every_kind_of_tool(tmp_path: Path) -> None:
    (tmp_path / "functions.yaml").write_text(FUNCTIONS)
    (tmp_path / "server.py").write_text(SERVER)
    settings = load_settings(
        data_dir=tmp_path / "data",
        tools_functions_file=tmp_path / "functions.yaml",
        tools_max_calls_per_turn=2,
        mcp_servers=[
            {"name": "local", "command": sys.executable, "args": [str(tmp_path / "server.py")]},
            {"name": "gone", "command": str(tmp_path / "missing-server")},
        ],
    )
    extra = FunctionTool(ToolSpec("lights_on", "Turn the lights on."), lights, kind="homeassistant")

    toolbox = await build_toolbox(settings, extra_tools=[extra])
    try:
        names = toolbox.registry.names()
        outcomes = await toolbox.run(
            [
                ToolCall("1", "greet", '{"who": "Ada"}'),
                ToolCall("2", "add", '{"a": 1, "b": 2}'),
                ToolCall("3", "lights_on", "{}"),
            ]
        )
    finally:
        await toolbox.aclose()

    assert {"get_time", "calculator", "set_timer", "lights_on", "greet", "add", "shout"} <= set(names)
    assert [outcome.content for outcome in outcomes[:2]] == ["Hello Ada!", "3"]
    assert "too many tool calls" in outcomes[2].content
    assert any("history" in problem for problem in toolbox.problems)
    assert any("MCP server 'gone'" in problem for problem in toolbox.problems)


async def test_without_settings_for_tools_only_the_builtins_load(tmp_path: Path) -> None:
    toolbox = await build_toolbox(load_settings(data_dir=tmp_path / "data"))
    await toolbox.aclose()

    assert set(toolbox.registry.names()) == {
        "get_time",
        "get_date",
        "calculator",
        "convert_units",
        "set_timer",
        "cancel_timer",
        "list_timers",
    }
    assert toolbox.problems == []
