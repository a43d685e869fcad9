"""Importing an Extended OpenAI Conversation functions file, written the way its README writes them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.agent.tools.local_http import serving
from voxhub.agent.tools.base import FunctionTool, Tool, ToolResult
from voxhub.agent.tools.extended_openai import import_functions, load_functions_file
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.engines.llm.base import ToolSpec
from voxhub.errors import ConfigError

FUNCTIONS = """
- spec:
    name: get_current_weather
    description: Get the current weather in a given location
    parameters:
      type: object
      properties:
        location:
          type: string
          description: The city and state, e.g. San Francisco, CA
        unit:
          type: string
          enum:
            - celcius
            - farenheit
      required:
        - location
  function:
    type: template
    value_template: The temperature in {{ location }} is 25 {{unit}}
- spec:
    name: get_city_weather
    description: Get the weather of a city from the weather service
    parameters:
      type: object
      properties:
        city:
          type: string
      required:
        - city
  function:
    type: rest
    resource_template: "BASE_URL/weather/{{ city }}"
    value_template: "{{ value_json.city }} is {{ value_json.temperature }} degrees"
- spec:
    name: add_note
    description: Store a note
    parameters:
      type: object
      properties:
        note:
          type: string
  function:
    type: rest
    resource: "BASE_URL/echo"
    method: POST
    headers:
      X-Token: abc
    payload_template: '{"note": {{ note | tojson }}}'
    value_template: "{{ value_json.body }}"
- spec:
    name: execute_services
    description: Use this function to execute service of devices in Home Assistant.
    parameters:
      type: object
      properties:
        list:
          type: array
          items:
            type: object
            properties:
              domain:
                type: string
              service:
                type: string
              service_data:
                type: object
            required: [domain, service, service_data]
  function:
    type: native
    name: execute_service
- spec:
    name: get_history
    description: Retrieve historical data of specified entities.
    parameters:
      type: object
      properties:
        entity_ids:
          type: array
          items:
            type: string
  function:
    type: native
    name: get_history
- spec:
    name: play_netflix
    description: Play a Netflix show
    parameters:
      type: object
      properties:
        video_id:
          type: string
  function:
    type: script
    sequence:
      - service: webostv.command
        data:
          entity_id: media_player.tv
          command: system.launcher/launch
- spec:
    name: get_cheapest_flight
    description: Scrape a page
  function:
    type: scrape
    resource: https://example.com
    sensor:
      - name: price
        select: ".price"
"""


@pytest.fixture(scope="module")
async def base_url() -> AsyncIterator[str]:
    async with serving() as url:
        yield url


@pytest.fixture
def functions_file(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "functions.yaml"
    path.write_text(FUNCTIONS.replace("BASE_URL", base_url))
    return path


class ExecuteServicesDouble:
    """Stands in for the Home Assistant `execute_services` tool (a real Home Assistant is tested elsewhere)."""

    kind = "homeassistant"

    def __init__(self, spec: ToolSpec) -> None:
        self.spec = spec

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        return ToolResult(f"ran {len(arguments['list'])} services")


def execute_services_factory(spec: ToolSpec, function: Mapping[str, Any]) -> Tool:
    return ExecuteServicesDouble(spec)  # type: ignore[return-value]


def registry_of(tools: tuple[Tool, ...]) -> ToolRegistry:
    registry = ToolRegistry()
    for tool in tools:
        registry.register(tool)
    return registry


async def test_template_rest_and_native_functions_become_tools(functions_file: Path) -> None:
    imported = load_functions_file(
        functions_file, native_factories={"execute_service": execute_services_factory}
    )

    assert [tool.spec.name for tool in imported.tools] == [
        "get_current_weather",
        "get_city_weather",
        "add_note",
        "execute_services",
    ]
    assert [tool.kind for tool in imported.tools] == ["template", "rest", "rest", "homeassistant"]


async def test_imported_tools_answer_like_in_home_assistant(functions_file: Path) -> None:
    imported = load_functions_file(
        functions_file, native_factories={"execute_service": execute_services_factory}
    )
    registry = registry_of(imported.tools)
    services = {
        "list": [{"domain": "light", "service": "turn_on", "service_data": {"entity_id": "light.desk"}}]
    }

    weather = await registry.call("get_current_weather", '{"location": "Paris", "unit": "celcius"}')
    city = await registry.call("get_city_weather", '{"city": "Oslo"}')
    note = await registry.call("add_note", '{"note": "buy milk"}')
    executed = await registry.call("execute_services", services)

    assert weather.content == "The temperature in Paris is 25 celcius"
    assert city.content == "Oslo is 21 degrees"
    assert note.content == '{"note": "buy milk"}'
    assert executed.content == "ran 1 services"


async def test_functions_that_cannot_run_here_are_skipped_with_reasons(functions_file: Path) -> None:
    imported = load_functions_file(functions_file)

    reasons = {item.name: item.reason for item in imported.skipped}

    assert set(reasons) == {"execute_services", "get_history", "play_netflix", "get_cheapest_flight"}
    assert "native function 'execute_service' is not available here" in reasons["execute_services"]
    assert "script functions need Home Assistant" in reasons["play_netflix"]
    assert "function type 'scrape' is not supported" in reasons["get_cheapest_flight"]
    assert "skipped get_history" in imported.summary


async def test_a_script_factory_receives_the_sequence(functions_file: Path) -> None:
    seen: list[Any] = []

    def script_factory(spec: ToolSpec, function: Mapping[str, Any]) -> Tool:
        seen.append(function["sequence"])
        return FunctionTool(spec, lambda _: _done(), kind="script")

    imported = load_functions_file(functions_file, script_factory=script_factory)

    assert "play_netflix" in [tool.spec.name for tool in imported.tools]
    assert seen[0][0]["service"] == "webostv.command"


async def _done() -> ToolResult:
    return ToolResult("done")


def test_broken_entries_are_skipped_not_fatal() -> None:
    imported = import_functions(
        [
            {"spec": {"name": "no_function"}},
            "just a string",
            {"spec": {"name": "bad_template"}, "function": {"type": "template", "value_template": "{{ x "}},
            {"spec": {"name": "ok"}, "function": {"type": "template", "value_template": "fine"}},
            {"spec": {"name": "ok"}, "function": {"type": "template", "value_template": "again"}},
        ]
    )

    assert [tool.spec.name for tool in imported.tools] == ["ok"]
    assert [item.name for item in imported.skipped] == ["no_function", "#2", "bad_template", "ok"]


def test_a_file_that_is_not_a_list_of_functions_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "functions.yaml"
    path.write_text("spec: {name: x}\n")

    with pytest.raises(ConfigError, match="expected a list of functions"):
        load_functions_file(path)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="functions file"):
        load_functions_file(tmp_path / "nope.yaml")
