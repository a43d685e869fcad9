"""Realtime function calling: the client's tools, called by the LLM, answered with function_call_output."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.live import live_server
from tests.doubles.openai_server import running_double
from tests.protocols.realtime_client import ask_in_text, history_of, realtime, user_message
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
# What the reference client sends after `addTool()`: its tools, and the default tool_choice.
WITH_TOOLS = {
    "type": "session.update",
    "session": {"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER], "tool_choice": "auto"},
}


@pytest.fixture
async def base_url(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> AsyncIterator[str]:
    """voxhub whose LLM is the OpenAI-compatible test double, which calls tools (no cloud is reachable
    here, and the bundled 135M model has no tool calling)."""
    settings = load_settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        llm_engine="openai",
        openai_base_url=running_double().base_url,
        wyoming_enabled=False,
    )
    shared = Engines(stt=await engine_pool.get("stt"), tts=await engine_pool.get("tts"))
    async with live_server(settings, EnginePool(settings, shared)) as url:
        yield url.replace("http", "ws", 1)


def function_output(call_id: str, output: str) -> dict[str, Any]:
    item = {"type": "function_call_output", "call_id": call_id, "output": output}
    return {"type": "conversation.item.create", "item": item}


async def test_the_session_shows_the_clients_tools(base_url: str) -> None:
    async with realtime(base_url) as client:
        await client.send(WITH_TOOLS)
        updated = await client.until("session.updated")

    assert updated["session"]["tools"] == [WEATHER]
    assert updated["session"]["tool_choice"] == "auto"


async def test_a_function_call_comes_back_as_a_function_call_item(base_url: str) -> None:
    async with realtime(base_url) as client:
        await client.send(WITH_TOOLS)
        await client.until("session.updated")
        done = await ask_in_text(client, "What is the weather in Paris?")

    call = done["response"]["output"]
    arguments = client.of_type("response.function_call_arguments.done")[0]
    assert [(item["type"], item["name"], item["status"]) for item in call] == [
        ("function_call", "get_weather", "completed")
    ]
    assert json.loads(call[0]["arguments"]) == {"city": "Paris"}
    assert arguments["call_id"] == call[0]["call_id"]
    assert arguments["item_id"] == call[0]["id"]
    assert (
        "".join(e["delta"] for e in client.of_type("response.function_call_arguments.delta"))
        == (call[0]["arguments"])
    )
    types = client.types()
    assert types.index("response.output_item.added") < types.index("response.function_call_arguments.delta")
    assert types.index("response.function_call_arguments.done") < types.index("response.output_item.done")
    assert "response.output_text.delta" not in types  # the answer said nothing: no message item


# The session openai-realtime-api-beta's RealtimeClient sends (beta dialect) once a tool is added.
REFERENCE_SESSION = {
    "modalities": ["text"],
    "instructions": "",
    "voice": "verse",
    "input_audio_format": "pcm16",
    "output_audio_format": "pcm16",
    "input_audio_transcription": None,
    "turn_detection": None,
    "tools": [WEATHER],
    "tool_choice": "auto",
    "temperature": 0.8,
    "max_response_output_tokens": 4096,
}


async def test_the_function_output_is_answered_at_the_next_response_create(base_url: str) -> None:
    double = running_double()
    async with realtime(base_url, beta=True) as client:
        await client.send({"type": "session.update", "session": REFERENCE_SESSION})
        await client.until("session.updated")
        await client.send({"type": "conversation.item.create", "item": user_message("Weather in Paris?")})
        await client.send({"type": "response.create"})
        # The reference client runs the tool once the function_call item is done, then answers with its output.
        call = (await client.until("response.output_item.done"))["item"]
        await client.send(function_output(call["call_id"], "Sunny, 24 degrees."))
        added = await client.until("conversation.item.created")
        await client.send({"type": "response.create"})
        done = await client.until("response.done")
        if done["response"]["output"][0]["type"] == "function_call":  # the first response's, sent late
            done = await client.until("response.done")
        history = await history_of(base_url, client)

    answer = done["response"]["output"][0]
    assert added["item"]["type"] == "function_call_output"
    assert call["type"] == "function_call"
    assert answer["content"][0]["text"] == "The tool says: Sunny, 24 degrees."
    sent = double.state.chat_requests[-1]["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == call["call_id"]
    assert sent[-1] == {"role": "tool", "tool_call_id": call["call_id"], "content": "Sunny, 24 degrees."}
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]


async def test_response_create_with_nothing_new_answers_from_the_history(base_url: str) -> None:
    double = running_double()
    async with realtime(base_url) as client:
        await client.send({"type": "session.update", "session": {"output_modalities": ["text"]}})
        await client.until("session.updated")
        await client.send({"type": "conversation.item.create", "item": user_message("Hello.")})
        await client.send({"type": "response.create"})
        await client.until("response.done")
        await client.send({"type": "response.create"})
        again = await client.until("response.done")

    assert again["response"]["status"] == "completed"
    assert again["response"]["output"][0]["content"][0]["text"] == double.state.reply
    assert [m["role"] for m in double.state.chat_requests[-1]["messages"]][-2:] == ["user", "assistant"]


async def test_tool_choice_naming_an_unknown_function_is_an_error(base_url: str) -> None:
    async with realtime(base_url) as client:
        await client.send(WITH_TOOLS)
        await client.until("session.updated")
        update = {"type": "session.update", "event_id": "evt_1", "session": {"tool_choice": "get_time"}}
        await client.send(update)
        error = await client.until("error")

    assert error["error"]["event_id"] == "evt_1"
    assert error["error"]["param"] == "tool_choice"
