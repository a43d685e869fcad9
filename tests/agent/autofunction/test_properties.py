"""voxhub's property check: tests the generating model did not write, run in the sandbox beside its own.

The code-writing model is the OpenAI-compatible test double (no such model runs on this machine); the tool
it "writes" is scripted, the check and the sandbox are real.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL, script_tool
from tests.doubles.openai_server import OpenAiDouble
from voxhub.agent.autofunction.sandbox import Sandbox
from voxhub.agent.autofunction.service import AutoFunctionConflict, AutoFunctionService
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.config import Settings
from voxhub.engines.llm.openai import OpenAiLlm


def _km_to_miles(factor: str) -> dict[str, Any]:
    """The defect seen with the bundled model: multiplying by 1.609, with tests that agree."""
    return {
        "name": "km_to_miles",
        "description": "Convert a distance from kilometers to miles.",
        "parameters": {
            "type": "object",
            "properties": {"km": {"type": "number", "description": "kilometers"}},
            "required": ["km"],
        },
        "source": f"def km_to_miles(km):\n    return round(km {factor}, 2)\n",
        "tests": f"assert km_to_miles(10) == round(10 {factor}, 2)\n",
    }


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry()


@pytest.fixture
def service(
    settings: Settings, llm: OpenAiLlm, registry: ToolRegistry, sandbox: Sandbox
) -> AutoFunctionService:
    return AutoFunctionService(settings, lambda: llm, registry, sandbox=sandbox)


async def test_a_km_to_miles_tool_that_multiplies_by_1609_stays_pending_with_the_failing_case(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    script_tool(double, _km_to_miles("* 1.609"))

    created = await service.create("convert kilometers to miles")

    report = created.test_report
    assert report["tests"]["passed"] is True  # its own tests agree with its mistake
    assert (created.status, created.tests_passed) == ("pending", False)
    assert report["property_check"]["passed"] is False
    assert report["property_check"]["failures"][0] == {
        "check": "round_trip",
        "arguments": {"km": 100.0},
        "result": 160.9,
        "converted_back": 258.94345,
        "message": "160.9 mile converted back is 258.9434 km, not 100.0 km",
    }


async def test_a_tool_that_failed_the_property_check_cannot_be_approved_and_says_why(
    service: AutoFunctionService, double: OpenAiDouble, registry: ToolRegistry
) -> None:
    script_tool(double, _km_to_miles("* 1.609"))
    created = await service.create("convert kilometers to miles")

    with pytest.raises(AutoFunctionConflict, match=r"property check .*258\.9434 km, not 100\.0 km"):
        await service.approve(created.id)
    assert "km_to_miles" not in [spec.name for spec in registry.specs()]
    assert (await service.get(created.id)).status == "pending"


async def test_a_correct_km_to_miles_tool_passes_the_round_trip(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    script_tool(double, _km_to_miles("/ 1.609344"))

    created = await service.create("convert kilometers to miles")

    assert created.tests_passed is True
    assert created.test_report["property_check"] == {
        "passed": True,
        "checks": ["types", "round_trip"],
        "failures": [],
        "skipped": "",
        "error": "",
    }


async def test_a_correct_temperature_conversion_passes_the_round_trip(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    script_tool(double, CELSIUS_TOOL)

    created = await service.create("convert Celsius to Fahrenheit")

    assert created.test_report["property_check"]["checks"] == ["types", "round_trip"]
    assert created.tests_passed is True


async def test_a_tool_returning_values_of_different_types_fails_the_types_check(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    script_tool(
        double,
        {
            "name": "halve",
            "description": "Half of a number.",
            "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
            "source": "def halve(n):\n    return n / 2 if n > 5 else 'small'\n",
            "tests": "assert halve(10) == 5\n",
        },
    )

    created = await service.create("halve a number")

    failure = created.test_report["property_check"]["failures"][0]
    assert (created.tests_passed, failure["check"]) == (False, "types")
    assert failure["message"] == "it returned values of different types: number, str"
    assert failure["arguments"] == {"n": 10}


async def test_a_tool_that_raises_on_an_argument_its_schema_allows_fails_the_types_check(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    script_tool(
        double,
        {
            "name": "inverse",
            "description": "One over a number.",
            "parameters": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]},
            "source": "def inverse(x):\n    if x > 50:\n        raise ValueError('too big')\n    return 1 / x\n",
            "tests": "assert inverse(2) == 0.5\n",
        },
    )

    created = await service.create("one over a number")

    failure = created.test_report["property_check"]["failures"][0]
    assert failure == {"check": "types", "arguments": {"x": 100}, "message": "it raised ValueError: too big"}


async def test_a_tool_whose_arguments_are_free_text_is_not_blocked_by_a_check_that_cannot_run(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    script_tool(
        double,
        {
            "name": "shout",
            "description": "The text in capitals.",
            "parameters": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
            "source": "def shout(text):\n    return text.upper()\n",
            "tests": "assert shout('hi') == 'HI'\n",
        },
    )

    created = await service.create("shout")

    assert created.tests_passed is True
    assert created.test_report["property_check"]["skipped"] == (
        "its arguments cannot be chosen from the schema alone"
    )


async def test_the_property_check_runs_inside_the_sandbox_and_its_limits(
    service: AutoFunctionService, double: OpenAiDouble
) -> None:
    # Run on the host, this conversion would hang the server; in the sandbox its CPU limit ends it.
    tool = _km_to_miles("/ 1.609344")
    tool["source"] = "def km_to_miles(km):\n    while km > 50:\n        km += 1\n    return km / 1.609344\n"
    tool["tests"] = ""
    script_tool(double, tool)

    created = await service.create("convert kilometers to miles")

    check = created.test_report["property_check"]
    assert (check["passed"], check["error"]) == (False, "the call used up its CPU time and was killed")
