"""Extended OpenAI Conversation's requests against voxhub's embedded model, through the real `openai` SDK.

The bundled 135M model cannot call tools; the offline agent recognises the command on a device the client
listed and answers with a call of the client's own `execute_services`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.api.live import live_server
from tests.doubles.openai_server import running_double
from tests.protocols.eoc import EXECUTE_SERVICES, TOOLS, conversation
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

KITCHEN_ON = {
    "list": [{"domain": "light", "service": "turn_on", "service_data": {"entity_id": "light.kitchen"}}]
}


@pytest.fixture(scope="module")
async def url(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, engine_pool: EnginePool
) -> AsyncIterator[str]:
    """voxhub with its default, fully local engines."""
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("eoc"), models_dir=models_dir, wyoming_enabled=False
    )
    async with live_server(settings, engine_pool) as base:
        yield base


def client(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0)


async def test_turn_on_the_kitchen_light_is_a_call_of_the_clients_execute_services(url: str) -> None:
    completion = await client(url).chat.completions.create(
        model="gpt-3.5-turbo-1106",
        messages=conversation("Turn on the kitchen light."),
        tools=TOOLS,
        tool_choice="auto",
        max_tokens=150,
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert call.function.name == "execute_services"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == KITCHEN_ON  # type: ignore[union-attr]


async def test_the_call_streams_too(url: str) -> None:
    stream = await client(url).chat.completions.create(
        model="x", messages=conversation("Turn on the kitchen light."), tools=TOOLS, stream=True
    )
    chunks = [chunk async for chunk in stream]

    calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or ()]
    assert [call.function.name for call in calls] == ["execute_services"]  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments or "") == KITCHEN_ON  # type: ignore[union-attr]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_eocs_default_legacy_functions_get_a_function_call(url: str) -> None:
    completion = await client(url).chat.completions.create(
        model="x",
        messages=conversation("Switch off the big lamp."),  # an alias from the device list
        functions=[EXECUTE_SERVICES],
        function_call="auto",
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.function_call is not None
    assert json.loads(choice.message.function_call.arguments) == {
        "list": [
            {"domain": "light", "service": "turn_off", "service_data": {"entity_id": "light.living_room"}}
        ]
    }


async def test_eocs_legacy_function_result_gets_the_confirmation_too(url: str) -> None:
    sdk = client(url)
    messages: list[Any] = conversation("Switch off the big lamp.")
    first = await sdk.chat.completions.create(
        model="x", messages=messages, functions=[EXECUTE_SERVICES], function_call="auto"
    )
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "function", "name": "execute_services", "content": "[{'success': True}]"},
    ]

    final = await sdk.chat.completions.create(
        model="x", messages=messages, functions=[EXECUTE_SERVICES], function_call="none"
    )

    assert final.choices[0].message.content == "Turned off the Living Room Lamp."
    assert final.choices[0].finish_reason == "stop"


async def test_the_tool_result_gets_a_short_spoken_confirmation(url: str) -> None:
    sdk = client(url)
    messages: list[Any] = conversation("Turn on the kitchen light.")
    first = await sdk.chat.completions.create(model="x", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {
            "role": "tool",
            "tool_call_id": call.id,
            "name": "execute_services",
            "content": "[{'success': True}]",
        },
    ]

    # EOC's second request: the result, with tool_choice "none" once its one call per turn is spent.
    final = await sdk.chat.completions.create(model="x", messages=messages, tools=TOOLS, tool_choice="none")

    assert final.choices[0].message.content == "Turned on the Kitchen Light."
    assert final.choices[0].finish_reason == "stop"


async def test_a_failed_service_call_is_said_with_its_reason(url: str) -> None:
    sdk = client(url)
    messages: list[Any] = conversation("Open the garage door.")
    first = await sdk.chat.completions.create(model="x", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "[{'error': 'the door is jammed'}]"},
    ]

    final = await sdk.chat.completions.create(model="x", messages=messages, tools=TOOLS)

    assert final.choices[0].message.content == "Sorry, Home Assistant couldn't do that: the door is jammed."


async def test_a_device_the_client_did_not_list_gets_no_call(url: str) -> None:
    completion = await client(url).chat.completions.create(
        model="x", messages=conversation("Turn on the sauna."), tools=TOOLS, max_tokens=8
    )

    assert not completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason in ("stop", "length")


async def test_required_tool_choice_the_model_cannot_honour_is_tools_unsupported(url: str) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client(url).chat.completions.create(
            model="x", messages=conversation("Tell me a joke."), tools=TOOLS, tool_choice="required"
        )

    body = raised.value.response.json()
    assert raised.value.status_code == 400
    assert body["error"] == "tools_unsupported"
    assert "smollm2" in body["message"].lower()  # the model that cannot call tools, by name


async def test_models_report_the_llms_tools_and_context(url: str) -> None:
    listed = await client(url).models.list()

    llm = next(model for model in listed.data if model.id == "local")
    extra: Any = llm.model_extra
    assert extra["capabilities"]["tools"] is False
    assert extra["capabilities"]["home_command_tool_calls"] is True
    assert extra["context_length"] == 8192 // 4  # one slot of llama.cpp's context, with the default settings
    assert extra["capabilities"]["context_tokens"] == extra["context_length"]


# a model that writes its call as text (the OpenAI-compatible test double stands in for it: no such model
# runs here)


@pytest.fixture(scope="module")
async def double_url(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, engine_pool: EnginePool
) -> AsyncIterator[str]:
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("eoc-double"),
        models_dir=models_dir,
        llm_engine="openai",
        openai_base_url=running_double().base_url,
        wyoming_enabled=False,
    )
    shared = Engines(stt=await engine_pool.get("stt"), tts=await engine_pool.get("tts"))
    async with live_server(settings, EnginePool(settings, shared)) as base:
        yield base


async def test_a_call_written_as_bare_json_in_the_content_comes_back_as_tool_calls(double_url: str) -> None:
    running_double().state.reply = '```json\n{"name": "get_time", "arguments": {"zone": "UTC"}}\n```'
    tool: Any = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}

    completion = await client(double_url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "What's the hour?"}], tools=[tool]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert not choice.message.content
    assert choice.message.tool_calls is not None
    assert choice.message.tool_calls[0].function.name == "get_time"  # type: ignore[union-attr]
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"zone": "UTC"}  # type: ignore[union-attr]


async def test_json_naming_no_offered_tool_stays_text(double_url: str) -> None:
    running_double().state.reply = '{"answer": 42}'
    tool: Any = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}

    completion = await client(double_url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "What's the hour?"}], tools=[tool]
    )

    assert completion.choices[0].message.content == '{"answer": 42}'
    assert completion.choices[0].finish_reason == "stop"
