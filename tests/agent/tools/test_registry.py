"""The registry checks arguments, bounds time, and turns every failure into a ToolError the turn survives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest

from voxhub.agent.tools.base import FunctionTool, ToolError, ToolNotFound, ToolResult
from voxhub.agent.tools.registry import ToolConflict, ToolRegistry, run_tool_calls
from voxhub.engines.llm.base import ToolCall, ToolSpec
from voxhub.errors import ConfigError

WEATHER = ToolSpec(
    "get_weather",
    "Weather in a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city"],
    },
)


async def weather(arguments: Mapping[str, Any]) -> ToolResult:
    return ToolResult(f"Sunny in {arguments['city']} for {arguments.get('days', 1)} days")


async def slow(arguments: Mapping[str, Any]) -> ToolResult:
    await asyncio.sleep(5)
    return ToolResult("late")


async def broken(arguments: Mapping[str, Any]) -> ToolResult:
    raise KeyError("boom")


def registry_with(*tools: FunctionTool, timeout_secs: float = 10.0) -> ToolRegistry:
    registry = ToolRegistry(timeout_secs=timeout_secs)
    for tool in tools:
        registry.register(tool)
    return registry


async def test_a_call_with_json_arguments_runs_the_tool() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))

    result = await registry.call("get_weather", '{"city": "Paris", "days": 2}')

    assert result.content == "Sunny in Paris for 2 days"


async def test_arguments_may_be_a_mapping_or_empty() -> None:
    registry = registry_with(FunctionTool(ToolSpec("ping", "Ping."), lambda _: _pong()))

    assert (await registry.call("ping", "")).content == "pong"
    assert (await registry.call("ping", {})).content == "pong"


async def _pong() -> ToolResult:
    return ToolResult("pong")


async def test_malformed_json_is_a_tool_error_saying_so() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))

    with pytest.raises(ToolError, match="not valid JSON") as caught:
        await registry.call("get_weather", '{"city": "Paris"')

    assert caught.value.spoken


async def test_arguments_that_are_not_an_object_are_refused() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))

    with pytest.raises(ToolError, match="must be a JSON object"):
        await registry.call("get_weather", '["Paris"]')


async def test_a_missing_required_argument_is_named() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))

    with pytest.raises(ToolError) as caught:
        await registry.call("get_weather", '{"days": 2}')

    assert caught.value.details["field"] == "city"
    assert "'city' is a required property" in str(caught.value)


async def test_an_argument_of_the_wrong_type_or_range_is_named() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))

    with pytest.raises(ToolError) as caught:
        await registry.call("get_weather", {"city": "Paris", "days": 30})

    assert caught.value.details["field"] == "days"
    assert "30 is greater than the maximum of 7" in str(caught.value)


async def test_an_unknown_tool_is_a_tool_error() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))

    with pytest.raises(ToolError, match="no tool named 'fly'"):
        await registry.call("fly", "{}")


async def test_a_tool_that_takes_too_long_is_stopped() -> None:
    registry = registry_with(FunctionTool(ToolSpec("slow", "Slow."), slow), timeout_secs=0.05)

    with pytest.raises(ToolError, match=r"took longer than 0\.05 s"):
        await registry.call("slow", "{}")


async def test_a_tool_that_crashes_becomes_a_tool_error_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with(FunctionTool(ToolSpec("broken", "Broken."), broken))

    with pytest.raises(ToolError, match="tool 'broken' failed: KeyError"):
        await registry.call("broken", "{}")

    assert "tool broken failed" in caplog.text


async def test_a_name_is_registered_once_unless_replaced() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))

    with pytest.raises(ToolConflict):
        registry.register(FunctionTool(WEATHER, weather))
    registry.register(FunctionTool(WEATHER, lambda _: _pong()), replace=True)

    assert (await registry.call("get_weather", {"city": "Oslo"})).content == "pong"


def test_an_invalid_schema_is_refused_at_registration() -> None:
    bad = ToolSpec("bad", "Bad schema.", {"type": "object", "properties": {"x": {"type": "strin"}}})

    with pytest.raises(ConfigError, match="invalid parameter schema"):
        ToolRegistry().register(FunctionTool(bad, weather))


async def test_unregistering_while_a_call_runs_lets_it_finish() -> None:
    started = asyncio.Event()

    async def waits(arguments: Mapping[str, Any]) -> ToolResult:
        started.set()
        await asyncio.sleep(0.05)
        return ToolResult("finished")

    registry = registry_with(FunctionTool(ToolSpec("waits", "Waits."), waits))
    running = asyncio.create_task(registry.call("waits", "{}"))
    await started.wait()
    registry.unregister("waits")

    assert (await running).content == "finished"
    assert registry.names() == ()
    with pytest.raises(ToolNotFound):
        registry.get("waits")


async def test_specs_list_what_the_llm_is_offered() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather), FunctionTool(ToolSpec("ping", "Ping."), weather))

    assert [spec.name for spec in registry.specs()] == ["get_weather", "ping"]


async def test_a_turn_runs_calls_in_order_and_reports_each_outcome() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))
    calls = [
        ToolCall("1", "get_weather", '{"city": "Rome"}'),
        ToolCall("2", "get_weather", '{"town": "Rome"}'),
        ToolCall("3", "nope", "{}"),
    ]

    outcomes = await run_tool_calls(registry, calls, max_calls=4)

    assert [outcome.ok for outcome in outcomes] == [True, False, False]
    assert outcomes[0].content == "Sunny in Rome for 1 days"
    assert json.loads(outcomes[1].content)["error"].endswith("'city' is a required property")
    assert [outcome.call.id for outcome in outcomes] == ["1", "2", "3"]


async def test_calls_past_the_per_turn_limit_get_an_error_result() -> None:
    registry = registry_with(FunctionTool(WEATHER, weather))
    calls = [ToolCall(str(i), "get_weather", '{"city": "Rome"}') for i in range(5)]

    outcomes = await run_tool_calls(registry, calls, max_calls=3)

    assert [outcome.ok for outcome in outcomes] == [True, True, True, False, False]
    assert "too many tool calls in one turn: at most 3" in outcomes[4].content
