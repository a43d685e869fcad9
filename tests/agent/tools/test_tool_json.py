"""Calls a model wrote as text become tool calls; every other answer stays text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from voxhub.agent.tool_json import json_tool_calls, parse_tool_calls
from voxhub.engines.llm.base import LlmChunk, LlmUsage, ToolSpec

TOOLS = (ToolSpec("get_weather", "The weather in a city."),)
NAMES = {"get_weather"}


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
        '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}',
        '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        '[{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]',
        '{"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}',
    ],
)
def test_the_usual_shapes_of_a_written_call_are_parsed(text: str) -> None:
    [call] = parse_tool_calls(text, NAMES)

    assert call.name == "get_weather"
    assert json.loads(call.arguments_json) == {"city": "Paris"}


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "delete_everything", "arguments": {}}',  # not a tool the request offered
        '{"city": "Paris"}',
        '{"name": "get_weather", "arguments": {"city": "Paris"}} and then some words',
        "[1, 2, 3]",
    ],
)
def test_anything_else_is_not_a_call(text: str) -> None:
    assert parse_tool_calls(text, NAMES) == ()


async def _stream(*chunks: LlmChunk) -> AsyncIterator[LlmChunk]:
    for chunk in chunks:
        yield chunk


async def test_a_streamed_written_call_ends_as_tool_calls_with_the_engines_usage() -> None:
    chunks = _stream(
        LlmChunk('{"name": "get_'),
        LlmChunk('weather", "arguments": {"city": "Paris"}}'),
        LlmChunk(finish_reason="stop", usage=LlmUsage(30, 12)),
    )

    out = [chunk async for chunk in json_tool_calls(chunks, TOOLS)]

    assert [c.text for c in out] == [""]
    assert out[-1].finish_reason == "tool_calls"
    assert out[-1].tool_calls[0].name == "get_weather"
    assert out[-1].usage == LlmUsage(30, 12)


async def test_a_spoken_answer_streams_as_it_comes() -> None:
    chunks = _stream(LlmChunk("It is"), LlmChunk(" sunny."), LlmChunk(finish_reason="stop"))

    out = [chunk async for chunk in json_tool_calls(chunks, TOOLS)]

    assert [c.text for c in out] == ["It is", " sunny.", ""]
    assert out[-1].finish_reason == "stop"
    assert not any(c.tool_calls for c in out)
