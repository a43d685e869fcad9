"""The `convert_units` tool: exact conversions for an LLM that calls tools, refused when the units are unclear."""

from __future__ import annotations

import pytest

from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.builtin import builtin_tools
from voxhub.agent.tools.registry import ToolRegistry


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    for tool in builtin_tools():
        registry.register(tool)
    return registry


async def test_kilometres_to_miles_divides_by_the_mile(registry: ToolRegistry) -> None:
    result = await registry.call("convert_units", {"value": 10, "from_unit": "km", "to_unit": "miles"})

    assert result.content == "10 kilometres is about 6.21 miles."


async def test_fahrenheit_to_celsius(registry: ToolRegistry) -> None:
    result = await registry.call(
        "convert_units", {"value": 212, "from_unit": "Fahrenheit", "to_unit": "Celsius"}
    )

    assert result.content == "212 degrees Fahrenheit is 100 degrees Celsius."


async def test_units_of_different_kinds_are_refused(registry: ToolRegistry) -> None:
    with pytest.raises(ToolError) as refused:
        await registry.call("convert_units", {"value": 3, "from_unit": "miles", "to_unit": "kg"})

    assert refused.value.spoken == "Sorry, I can't convert between those units."
