"""Fixtures: a sandbox with short limits, an LLM (the OpenAI test double) that writes scripted tools."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.doubles.openai_server import OpenAiDouble, running_double
from voxhub.agent.autofunction.sandbox import Sandbox, SandboxLimits
from voxhub.engines.llm.openai import OpenAiLlm

CELSIUS_TOOL: dict[str, Any] = {
    "name": "celsius_to_fahrenheit",
    "description": "Convert a temperature from Celsius to Fahrenheit.",
    "parameters": {
        "type": "object",
        "properties": {"celsius": {"type": "number", "description": "degrees Celsius"}},
        "required": ["celsius"],
    },
    "source": "def celsius_to_fahrenheit(celsius):\n    return round(celsius * 9 / 5 + 32, 2)\n",
    "tests": "assert celsius_to_fahrenheit(100) == 212\nassert celsius_to_fahrenheit(0) == 32\n",
}


@pytest.fixture
def sandbox() -> Sandbox:
    """Tighter than the defaults so the tests that hit a limit finish quickly."""
    return Sandbox(SandboxLimits(cpu_secs=1, memory_mb=256, timeout_secs=5.0))


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double()


@pytest.fixture
async def llm(double: OpenAiDouble) -> AsyncIterator[OpenAiLlm]:
    """voxhub's `openai` engine against the test double, which stands in for a code-writing cloud model."""
    engine = OpenAiLlm(base_url=double.base_url, api_key=None, model="coder", loopback=True)
    yield engine
    await engine.aclose()


def script_tool(double: OpenAiDouble, tool: dict[str, Any]) -> None:
    """Make the double's next replies this tool definition, as a JSON object in a fence like models write."""
    double.state.reply = "Here is the tool:\n```json\n" + json.dumps(tool, indent=1) + "\n```"
