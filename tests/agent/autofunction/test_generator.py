"""Generation: the LLM's answer becomes a tool definition, whatever reasonable shape it comes in."""

from __future__ import annotations

import json

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL, script_tool
from tests.doubles.openai_server import OpenAiDouble
from voxhub.agent.autofunction.generator import GenerationError, generate_tool, parse_reply
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.errors import EmptyTextError


async def test_the_llm_is_asked_and_its_json_becomes_a_tool(llm: OpenAiLlm, double: OpenAiDouble) -> None:
    script_tool(double, CELSIUS_TOOL)
    tool = await generate_tool(llm, "convert Celsius to Fahrenheit")
    assert (tool.name, tool.parameters["required"]) == ("celsius_to_fahrenheit", ["celsius"])
    assert "def celsius_to_fahrenheit" in tool.source
    assert "assert" in tool.tests
    assert "Celsius to Fahrenheit" in double.state.chat_requests[-1]["messages"][-1]["content"]


def test_a_bare_json_object_is_read() -> None:
    assert parse_reply(json.dumps(CELSIUS_TOOL)).name == "celsius_to_fahrenheit"


def test_python_blocks_supply_the_source_and_tests_when_the_json_lacks_them() -> None:
    reply = (
        '```json\n{"description": "Double it.", "parameters": {"type": "object", "properties": '
        '{"n": {"type": "integer"}}}}\n```\n'
        "```python\ndef double(n):\n    return 2 * n\n```\n"
        "```python\nassert double(2) == 4\n```\n"
    )
    tool = parse_reply(reply)
    assert (tool.name, tool.description, tool.tests) == ("double", "Double it.", "assert double(2) == 4\n")


@pytest.mark.parametrize(
    "reply",
    [
        "I cannot help with that.",
        json.dumps({**CELSIUS_TOOL, "source": ""}),
        json.dumps({**CELSIUS_TOOL, "name": "Not A Name"}),
        json.dumps({**CELSIUS_TOOL, "parameters": {"type": "array"}}),
    ],
)
def test_an_unusable_answer_is_a_clear_error(reply: str) -> None:
    with pytest.raises(GenerationError) as caught:
        parse_reply(reply)
    assert caught.value.details["reply"] == reply[:1000]
    assert caught.value.status_code == 422  # the model answered: no tool for this description, no 502


async def test_an_empty_description_is_refused_before_asking(llm: OpenAiLlm, double: OpenAiDouble) -> None:
    with pytest.raises(EmptyTextError):
        await generate_tool(llm, "   ")
    assert double.state.chat_requests == []
