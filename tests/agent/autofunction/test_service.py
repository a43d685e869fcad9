"""The lifecycle: create → pending → approve (live in the registry) → disable → delete, kept across restarts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL, script_tool
from tests.doubles.openai_server import OpenAiDouble
from voxhub.agent.autofunction.sandbox import Sandbox
from voxhub.agent.autofunction.service import AutoFunctionConflict, AutoFunctionRejected, AutoFunctionService
from voxhub.agent.autofunction.store import AutoFunctionNotFound
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.config import Settings
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.errors import VoxhubError


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry()


@pytest.fixture
async def service(
    settings: Settings, llm: OpenAiLlm, double: OpenAiDouble, registry: ToolRegistry, sandbox: Sandbox
) -> AutoFunctionService:
    script_tool(double, CELSIUS_TOOL)
    service = AutoFunctionService(settings, lambda: llm, registry, sandbox=sandbox)
    assert await service.start() == 0
    return service


async def test_a_created_tool_is_pending_with_its_tests_passed(service: AutoFunctionService) -> None:
    created = await service.create("convert Celsius to Fahrenheit")
    assert (created.status, created.tests_passed, created.request) == (
        "pending",
        True,
        "convert Celsius to Fahrenheit",
    )
    assert await service.get(created.id) == created


async def test_a_pending_tool_is_not_in_the_registry(
    service: AutoFunctionService, registry: ToolRegistry
) -> None:
    await service.create("convert Celsius to Fahrenheit")
    assert "celsius_to_fahrenheit" not in [spec.name for spec in registry.specs()]


async def test_an_approved_tool_is_callable_through_the_registry_at_once(
    service: AutoFunctionService, registry: ToolRegistry
) -> None:
    created = await service.create("convert Celsius to Fahrenheit")
    approved = await service.approve(created.id)
    assert approved.status == "approved"
    result = await registry.call("celsius_to_fahrenheit", {"celsius": 37})
    assert (result.content, result.data) == ("98.6", 98.6)


async def test_a_disabled_tool_is_no_longer_callable(
    service: AutoFunctionService, registry: ToolRegistry
) -> None:
    created = await service.create("convert Celsius to Fahrenheit")
    await service.approve(created.id)
    disabled = await service.disable(created.id)
    assert disabled.status == "disabled"
    assert "celsius_to_fahrenheit" not in [spec.name for spec in registry.specs()]
    with pytest.raises(ToolError, match="celsius_to_fahrenheit"):
        await registry.call("celsius_to_fahrenheit", {"celsius": 1})


async def test_a_deleted_tool_is_gone(service: AutoFunctionService, registry: ToolRegistry) -> None:
    created = await service.create("convert Celsius to Fahrenheit")
    await service.approve(created.id)
    await service.delete(created.id)
    with pytest.raises(AutoFunctionNotFound):
        await service.get(created.id)
    assert await service.all() == []
    assert "celsius_to_fahrenheit" not in [spec.name for spec in registry.specs()]


async def test_approved_tools_go_live_again_after_a_restart(
    service: AutoFunctionService, settings: Settings, llm: OpenAiLlm, sandbox: Sandbox
) -> None:
    created = await service.create("convert Celsius to Fahrenheit")
    await service.approve(created.id)
    pending = await service.create("convert Celsius to Fahrenheit again")
    fresh_registry = ToolRegistry()
    restarted = AutoFunctionService(settings, lambda: llm, fresh_registry, sandbox=sandbox)
    assert await restarted.start() == 1
    assert [function.status for function in await restarted.all()] == ["approved", "pending"]
    assert (await restarted.get(pending.id)).name == "celsius_to_fahrenheit_2"
    assert (await fresh_registry.call("celsius_to_fahrenheit", {"celsius": 100})).data == 212


async def test_code_breaking_the_allow_list_is_rejected_and_not_stored(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    source = "import os\n\ndef leak(path):\n    return os.listdir(path)\n"
    script_tool(double, {**CELSIUS_TOOL, "name": "leak", "source": source, "tests": ""})
    with pytest.raises(AutoFunctionRejected) as caught:
        await service.create("list a directory")
    violations: list[dict[str, Any]] = caught.value.details["violations"]
    assert [(v["line"], v["rule"]) for v in violations] == [(1, "import"), (1, "signature")]
    assert await service.all() == []


async def test_a_tool_whose_tests_fail_cannot_be_approved(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    script_tool(double, {**CELSIUS_TOOL, "tests": "assert celsius_to_fahrenheit(0) == 0\n"})
    created = await service.create("convert Celsius to Fahrenheit")
    assert not created.tests_passed
    assert created.test_report["tests"]["failures"][0]["type"] == "AssertionError"
    with pytest.raises(AutoFunctionConflict):
        await service.approve(created.id)


async def test_a_failing_call_is_a_tool_error_saying_why(
    service: AutoFunctionService, double: OpenAiDouble, registry: ToolRegistry
) -> None:
    # It spins only for the argument the call gives, so it passes the property check before approval.
    source = "def spin(n=0):\n    while n == 1:\n        pass\n    return n\n"
    script_tool(
        double,
        {
            **CELSIUS_TOOL,
            "name": "spin",
            "description": "Spin on a number.",
            "source": source,
            "tests": "def test_nothing():\n    pass\n",
            "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
        },
    )
    await service.approve((await service.create("spin")).id)
    with pytest.raises(ToolError) as caught:
        await registry.call("spin", {"n": 1})
    assert caught.value.details["killed"] == "cpu"


async def test_an_invalid_parameter_schema_is_rejected(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    broken = {"type": "object", "properties": {"celsius": {"type": "temperature"}}}
    script_tool(double, {**CELSIUS_TOOL, "parameters": broken})
    with pytest.raises(AutoFunctionRejected) as caught:
        await service.create("convert Celsius to Fahrenheit")
    assert [v["rule"] for v in caught.value.details["violations"]] == ["parameters"]


async def test_approving_a_name_another_tool_holds_is_a_conflict(
    service: AutoFunctionService, registry: ToolRegistry
) -> None:
    created = await service.create("convert Celsius to Fahrenheit")
    registry.register(service.tool(created))  # e.g. a built-in tool of that name
    with pytest.raises(VoxhubError) as caught:
        await service.approve(created.id)
    assert caught.value.status_code == 409
    assert (await service.get(created.id)).status == "pending"
