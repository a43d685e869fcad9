"""Tools fail loudly: wrong arguments are refused with the reason, and every failure is logged — against a
real Home Assistant core."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from tests.home_assistant import HomeAssistant
from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.tools.base import ToolArgumentsError, ToolError
from voxhub.agent.tools.homeassistant import homeassistant_tools
from voxhub.agent.tools.registry import ToolRegistry

KITCHEN = "light.kitchen_light"


@pytest.fixture
async def registry(home_assistant: HomeAssistant) -> AsyncIterator[ToolRegistry]:
    async with HomeAssistantClient(home_assistant.url, home_assistant.token) as client:
        tools = ToolRegistry()
        for tool in homeassistant_tools(client):
            tools.register(tool)
        yield tools


async def test_an_entity_id_beside_service_data_is_refused_and_says_where_it_goes(
    registry: ToolRegistry,
) -> None:
    with pytest.raises(ToolArgumentsError) as refused:
        await registry.call("call_service", {"domain": "light", "service": "turn_on", "entity_id": KITCHEN})

    assert "unknown argument 'entity_id'" in refused.value.message
    assert "'entity_id' goes inside 'service_data'" in refused.value.message
    assert refused.value.details["unknown"] == ["entity_id"]


async def test_an_unknown_key_in_an_execute_services_item_is_refused(registry: ToolRegistry) -> None:
    item = {"domain": "light", "service": "turn_on", "service_data": {"entity_id": KITCHEN}, "brightness": 9}

    with pytest.raises(ToolArgumentsError) as refused:
        await registry.call("execute_services", {"list": [item]})

    assert refused.value.details["field"] == "list.0"
    assert "'brightness' was unexpected" in refused.value.message


async def test_service_data_keeps_every_field_a_service_takes(registry: ToolRegistry) -> None:
    data = {"entity_id": KITCHEN, "brightness_pct": 40}

    result = await registry.call(
        "call_service", {"domain": "light", "service": "turn_on", "service_data": data}
    )

    assert '"success": true' in result.content


async def test_a_failed_call_is_logged_with_its_arguments_and_home_assistants_status(
    registry: ToolRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    arguments = {"domain": "light", "service": "explode", "service_data": {"entity_id": KITCHEN}}

    with caplog.at_level(logging.WARNING, "voxhub.agent.tools.registry"), pytest.raises(ToolError):
        await registry.call("call_service", arguments)

    [record] = [r for r in caplog.records if getattr(r, "tool", None) == "call_service"]
    assert '"service": "explode"' in record.__dict__["arguments"]
    assert record.__dict__["upstream_status"] == 400
    assert "upstream status 400" in record.getMessage()
