"""Constrained decoding of tool calls: the output can only be a valid call of one offered tool.

The schema builder is checked with jsonschema (what it accepts is what llama.cpp's grammar lets through);
the real decode runs the embedded SmolLM2 through llama.cpp under that grammar, standing in for a model
whose chat template knows tools (SmolLM2's does not, so voxhub never constrains it on its own).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import jsonschema
import pytest

from voxhub.config import Settings
from voxhub.engines.llm.base import ChatMessage, LlmChunk, ToolSpec
from voxhub.engines.llm.local import LocalLlm
from voxhub.engines.llm.tool_grammar import forces_call, parse_tool_call, tool_call_schema
from voxhub.errors import EngineError, InputError

EXECUTE_SERVICES = ToolSpec(
    "execute_services",
    "Use this function to execute service of devices in Home Assistant.",
    {
        "type": "object",
        "properties": {
            "list": {
                "type": "array",
                "minItems": 1,
                "maxItems": 2,
                "items": {
                    "type": "object",
                    "properties": {
                        "domain": {"type": "string", "enum": ["light", "switch"]},
                        "service": {"type": "string", "enum": ["turn_on", "turn_off"]},
                        "service_data": {
                            "type": "object",
                            "properties": {
                                "entity_id": {"type": "string", "enum": ["light.kitchen", "light.hall"]}
                            },
                            "required": ["entity_id"],
                            "additionalProperties": False,
                        },
                    },
                    "required": ["domain", "service", "service_data"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["list"],
        "additionalProperties": False,
    },
)
WEATHER = ToolSpec(
    "get_weather",
    "The current weather in a city.",
    {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 40}},
        "required": ["city"],
        "additionalProperties": False,
    },
)
TOOLS = (EXECUTE_SERVICES, WEATHER)
KITCHEN_ON = {
    "name": "execute_services",
    "arguments": {
        "list": [{"domain": "light", "service": "turn_on", "service_data": {"entity_id": "light.kitchen"}}]
    },
}


def _valid(schema: dict[str, object], output: object) -> bool:
    try:
        jsonschema.validate(output, schema)
    except jsonschema.ValidationError:
        return False
    return True


def test_a_call_of_an_offered_tool_with_arguments_its_schema_accepts_is_valid() -> None:
    schema = tool_call_schema(TOOLS, "required")

    assert _valid(schema, KITCHEN_ON)
    assert _valid(schema, {"name": "get_weather", "arguments": {"city": "Paris"}})


def test_a_tool_that_was_not_offered_is_not_a_valid_call() -> None:
    assert not _valid(tool_call_schema(TOOLS), {"name": "unlock_door", "arguments": {}})


def test_arguments_the_tools_schema_refuses_are_not_a_valid_call() -> None:
    schema = tool_call_schema(TOOLS)
    unknown_entity = json.loads(json.dumps(KITCHEN_ON).replace("light.kitchen", "light.garage"))

    assert not _valid(schema, unknown_entity)
    assert not _valid(schema, {"name": "get_weather", "arguments": {"city": "Paris", "entity_id": "x"}})
    assert not _valid(schema, {"name": "get_weather", "arguments": {}})
    assert not _valid(schema, {**KITCHEN_ON, "entity_id": "light.kitchen"})  # nothing beside the call


def test_a_tool_choice_naming_a_tool_allows_only_that_tool() -> None:
    schema = tool_call_schema(TOOLS, "get_weather")

    assert _valid(schema, {"name": "get_weather", "arguments": {"city": "Oslo"}})
    assert not _valid(schema, KITCHEN_ON)


def test_a_tool_choice_naming_no_offered_tool_is_refused() -> None:
    with pytest.raises(InputError, match="unlock_door"):
        tool_call_schema(TOOLS, "unlock_door")


def test_only_a_request_that_must_call_a_tool_is_constrained() -> None:
    assert forces_call(TOOLS, "required")
    assert forces_call(TOOLS, "get_weather")
    assert not forces_call(TOOLS, "auto")
    assert not forces_call(TOOLS, None)
    assert not forces_call((), "required")


def test_the_written_call_becomes_a_tool_call_and_one_cut_short_is_an_error() -> None:
    call = parse_tool_call(json.dumps(KITCHEN_ON), TOOLS)

    assert call.name == "execute_services"
    assert json.loads(call.arguments_json) == KITCHEN_ON["arguments"]
    with pytest.raises(EngineError, match="cut off"):
        parse_tool_call('{"name": "execute_services", "arguments": {"li', TOOLS)


@pytest.fixture(scope="module")
async def embedded(session_settings: Settings) -> AsyncIterator[LocalLlm]:
    engine = LocalLlm.from_settings(session_settings.model_copy(update={"llm_threads": 1, "llm_slots": 1}))
    yield engine
    await engine.aclose()


async def test_the_embedded_model_has_no_tool_template_so_its_calls_are_not_constrained(
    embedded: LocalLlm, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("SmolLM2 was decoded under a tool-call grammar")

    monkeypatch.setattr(embedded, "tool_call", refuse)
    chunks = [chunk async for chunk in embedded.chat([ChatMessage("user", "Hi")], tools=TOOLS, max_tokens=4)]

    assert embedded.capabilities.tool_calling is False
    assert chunks[-1].finish_reason in ("stop", "length")


@pytest.mark.slow
async def test_a_forced_call_decoded_under_the_grammar_is_a_valid_call_of_an_offered_tool(
    embedded: LocalLlm, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if SmolLM2's template knew tools: the request goes through the grammar of a valid call.
    monkeypatch.setattr(embedded, "capabilities", replace(embedded.capabilities, tool_calling=True))
    messages = [
        ChatMessage("system", "You control a home. Devices: light.kitchen (Kitchen light), light.hall."),
        ChatMessage("user", "Turn on the kitchen light."),
    ]

    chunks: list[LlmChunk] = [
        chunk async for chunk in embedded.chat(messages, tools=TOOLS, tool_choice="required", max_tokens=120)
    ]

    [call] = chunks[-1].tool_calls
    assert chunks[-1].finish_reason == "tool_calls"
    tool = next(tool for tool in TOOLS if tool.name == call.name)
    jsonschema.validate(json.loads(call.arguments_json), dict(tool.parameters))
    assert not "".join(chunk.text for chunk in chunks)  # nothing of the JSON is said
