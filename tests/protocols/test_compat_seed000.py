"""Seed 000's server interface, driven with the request shapes its clients send.

The AutoFunction alias writes its tool with the OpenAI-compatible test double (a code-writing cloud model
cannot run here); everything else runs on the real local engines, offline agent and tools.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL, script_tool
from tests.api.conftest import ServeFactory, serve  # noqa: F401  (the `serve` fixture)
from tests.api.error_shape import assert_error
from tests.doubles.openai_server import running_double
from tests.speech import espeak_speech, padded
from voxhub.audio import encode_audio

QUICK = {"llm_max_tokens": 24}


@pytest.fixture
async def client(serve: ServeFactory) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with serve(**QUICK) as server:
        yield server.client


async def test_process_answers_a_conversation_turn(client: httpx.AsyncClient) -> None:
    body = (await client.post("/process", json={"text": "Say hello."})).json()
    assert body["route"] == "conversation"
    assert body["response"].strip()
    assert body["session_id"]


async def test_process_runs_a_named_function(client: httpx.AsyncClient) -> None:
    body = (
        await client.post("/process", json={"function": "calculator", "arguments": {"expression": "2 + 3"}})
    ).json()
    assert body["route"] == "function"
    assert "5" in body["result"]


async def test_a_home_command_is_answered_offline_without_the_llm(client: httpx.AsyncClient) -> None:
    body = (await client.post("/process", json={"message": "What time is it?"})).json()
    assert body["intent"]["intent"] == "HassGetCurrentTime"
    assert body["response"].startswith("It's")


async def test_humanlike_chat_reports_the_users_emotion(client: httpx.AsyncClient) -> None:
    body = (await client.post("/humanlike/chat", json={"message": "I am so happy, I got the job!"})).json()
    assert body["route"] == "humanlike"
    assert body["emotion"]["label"] == "joy"
    assert body["response"].strip()


async def test_offline_chat_matches_commands_and_sends_the_rest_to_the_local_model(
    client: httpx.AsyncClient,
) -> None:
    matched = (await client.post("/offline/chat", json={"text": "What is the date today?"})).json()
    unmatched = (await client.post("/offline/chat", json={"text": "Name a colour."})).json()
    assert matched["intent"] == "HassGetCurrentDate"
    assert unmatched["intent"] is None
    assert unmatched["engine"] == "local"
    assert unmatched["response"].strip()


async def test_execute_function_of_an_unknown_tool_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/execute/function", json={"function": "launch_rocket", "arguments": {}})
    assert_error(response, 404, "tool_not_found")


async def test_execute_function_with_bad_arguments_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/execute/function", json={"function": "calculator", "arguments": {}})
    assert_error(response, 400, "invalid_tool_arguments")
    assert response.json()["details"]["field"] == "expression"


@pytest.mark.slow
async def test_speech_process_transcribes_answers_and_speaks(client: httpx.AsyncClient) -> None:
    speech = padded(espeak_speech("What time is it?"), before_ms=300, after_ms=600)
    audio = base64.b64encode(encode_audio(speech, "wav")).decode()

    body = (await client.post("/speech/process", json={"audio_data": audio})).json()

    assert "time" in body["transcript"].lower()
    assert body["response"].startswith("It's")
    assert body["audio_data"]


async def test_process_with_nothing_to_do_lists_what_it_accepts(client: httpx.AsyncClient) -> None:
    response = await client.post("/process", json={"session_id": None})
    assert_error(response, 400, "invalid_input")
    assert "audio_data" in response.json()["details"]["accepted"]


async def test_autofunction_create_leaves_the_new_tool_pending(serve: ServeFactory) -> None:  # noqa: F811
    double = running_double().reset()
    script_tool(double, CELSIUS_TOOL)
    async with serve(llm_engine="openai", openai_base_url=double.base_url) as server:
        response = await server.client.post(
            "/autofunction/create", json={"description": "Celsius to Fahrenheit"}
        )
    body = response.json()
    assert response.status_code == 201
    assert body["route"] == "autofunction"
    assert body["status"] == "pending"
    assert body["name"] == "celsius_to_fahrenheit"
