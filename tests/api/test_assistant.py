"""The assistant brain as sessions see it: personas, greetings, user notes, summaries of long histories.

Where a test must read what the LLM was asked, the LLM is the OpenAI-compatible test double (it records
its requests); a local model cannot show its prompt.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets

from tests.api.conftest import ServeFactory, Server
from tests.api.live import Client, live_server
from tests.doubles.openai_server import OpenAiDouble, running_double
from tests.home_assistant import HomeAssistant
from voxhub.config import Settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool
from voxhub.sessions.models import HistoryMessage

TEXT_ONLY = {"voice_input": False, "text_input": True, "voice_output": False, "text_output": True}


@asynccontextmanager
async def double_server(serve: ServeFactory) -> AsyncIterator[tuple[Server, OpenAiDouble]]:
    double = running_double().reset()
    async with serve(llm_engine="openai", openai_base_url=double.base_url) as server:
        yield server, double


@asynccontextmanager
async def text_socket(
    settings: Settings, engine_pool: EnginePool, double: OpenAiDouble
) -> AsyncIterator[Client]:
    """A native-socket conversation, text in and out, on a live server whose LLM is the test double."""
    settings = settings.model_copy(update={"llm_engine": "openai", "openai_base_url": double.base_url})
    shared = Engines(**{stage: await engine_pool.get(stage) for stage in ("vad", "stt", "tts", "wake")})
    async with live_server(settings, EnginePool(settings, shared)) as url:
        query = "voice_input=false&voice_output=false"
        async with websockets.connect(url.replace("http", "ws", 1) + f"/ws?{query}") as connection:
            client = Client(connection)
            await client.until("session_started")
            yield client


async def text_session(client: httpx.AsyncClient, **config: Any) -> str:
    created = await client.post("/api/v1/sessions", json={"mode": TEXT_ONLY, **config})
    return str(created.json()["id"])


def system_prompt(double: OpenAiDouble) -> str:
    return str(double.state.chat_requests[0]["messages"][0]["content"])


async def test_a_session_with_a_persona_is_prompted_as_that_character(serve: ServeFactory) -> None:
    async with double_server(serve) as (server, double):
        session_id = await text_session(server.client, persona="storyteller")
        await server.client.post(f"/api/v1/sessions/{session_id}/text", json={"text": "Hello"})
    assert "Your name is Storyteller." in system_prompt(double)


async def test_the_assistant_recalls_what_it_noted_about_the_user(serve: ServeFactory) -> None:
    async with double_server(serve) as (server, double):
        await server.client.post("/api/v1/users/ann/notes", json={"note": "Ann is allergic to peanuts."})
        session_id = await text_session(server.client, user_id="ann")
        await server.client.post(f"/api/v1/sessions/{session_id}/text", json={"text": "Plan my lunch."})
        notes = (await server.client.get("/api/v1/users/ann/notes")).json()["notes"]
    assert "Ann is allergic to peanuts." in system_prompt(double)
    assert [note["note"] for note in notes] == ["Ann is allergic to peanuts."]


async def test_a_note_is_forgotten_on_request(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/users/bo/notes", json={"note": "Likes jazz."})).json()
    assert (await client.delete(f"/api/v1/users/bo/notes/{created['id']}")).status_code == 204
    assert (await client.get("/api/v1/users/bo/notes")).json()["notes"] == []


async def test_older_history_stands_as_its_summary_and_the_rest_is_kept(serve: ServeFactory) -> None:
    async with double_server(serve) as (server, double):
        session_id = await text_session(server.client)
        now = time.time()
        await server.state.sessions.append(
            session_id,
            [
                HistoryMessage("user" if i % 2 == 0 else "assistant", f"message {i}", created_at=now)
                for i in range(8)
            ],
        )
        await server.state.sessions.store.save_summary(session_id, "The user asked about trains.", 6)
        await server.client.post(f"/api/v1/sessions/{session_id}/text", json={"text": "And buses?"})
    sent = [message["content"] for message in double.state.chat_requests[0]["messages"][1:]]
    assert sent == ["The user asked about trains.", "message 6", "message 7", "And buses?"]


async def test_a_new_conversation_opens_with_the_personas_greeting(
    session_settings: Settings, engine_pool: EnginePool, tmp_path: Any
) -> None:
    settings = session_settings.model_copy(update={"greeting_enabled": True, "data_dir": tmp_path / "data"})
    async with live_server(settings, engine_pool) as url:
        query = "persona=storyteller&voice_input=false&voice_output=false"
        async with websockets.connect(url.replace("http", "ws", 1) + f"/ws?{query}") as connection:
            client = Client(connection)
            await client.until("session_started")
            greeting = await client.until("response")
    assert greeting["data"]["text"] == "Settle in. Shall I tell you a story?"


async def test_a_timer_set_in_a_conversation_is_announced_in_it(
    session_settings: Settings, engine_pool: EnginePool, tmp_path: Any
) -> None:
    double = running_double().reset()
    double.state.tool_arguments = {"seconds": 1, "name": "pasta"}
    settings = session_settings.model_copy(update={"data_dir": tmp_path / "data"})
    async with text_socket(settings, engine_pool, double) as client:
        await client.send("text_message", text="Please set_timer for a second.")
        answer = await client.until("response")
        announcement = await client.until("response", timeout_secs=10)
    assert answer["data"]["text"].startswith("The tool says:")
    assert announcement["data"]["text"] == "Your pasta timer is done."


@pytest.mark.slow
async def test_turn_on_the_kitchen_light_works_end_to_end_with_no_llm(
    serve: ServeFactory, home_assistant: HomeAssistant
) -> None:
    await home_assistant.call_service("light", "turn_off", entity_id="all")
    double = running_double().reset()  # the LLM: it must not be asked
    async with serve(
        llm_engine="openai",
        openai_base_url=double.base_url,
        homeassistant_url=home_assistant.url,
        homeassistant_token=home_assistant.token,
    ) as server:
        answer = (await server.client.post("/process", json={"text": "Turn on the kitchen light"})).json()

    assert await home_assistant.wait_for_state("light.kitchen_light", "on") == "on"
    assert answer["intent"]["intent"] == "HassTurnOn"
    assert "kitchen light" in answer["response"].lower()
    assert double.state.chat_requests == []


async def test_a_timer_command_is_carried_out_offline_and_announced(
    session_settings: Settings, engine_pool: EnginePool, tmp_path: Any
) -> None:
    double = running_double().reset()  # the LLM: it must not be asked
    settings = session_settings.model_copy(update={"data_dir": tmp_path / "data"})
    async with text_socket(settings, engine_pool, double) as client:
        await client.send("text_message", text="Set a timer for 1 second")
        answer = await client.until("response")
        announcement = await client.until("response", timeout_secs=10)
    assert answer["data"]["text"] == "Timer set for 1 second."
    assert announcement["data"]["text"].endswith("timer is done.")
    assert double.state.chat_requests == []


async def test_a_history_that_fills_the_context_is_summarised_and_kept_whole(serve: ServeFactory) -> None:
    double = running_double().reset()
    async with serve(llm_engine="openai", openai_base_url=double.base_url, llm_context_tokens=1024) as server:
        session_id = await text_session(server.client)
        now = time.time()
        said = [f"Tell me about station number {i}, please. " * 8 for i in range(20)]
        await server.state.sessions.append(
            session_id,
            [HistoryMessage(role, text, created_at=now) for text in said for role in ("user", "assistant")],
        )
        await server.client.post(f"/api/v1/sessions/{session_id}/text", json={"text": "And the last one?"})
        summary = await server.state.sessions.store.summary(session_id)
        stored = await server.state.sessions.history(session_id)

    assert summary is not None
    summary_text, covered = summary
    assert summary_text.startswith("Summary of the earlier conversation:")
    assert 0 < covered < 40
    assert len(stored) == 42  # nothing was dropped from the store
    answered = double.state.chat_requests[-1]["messages"]
    assert answered[1]["content"] == summary_text  # the answer was asked with the summary in place
    assert len(answered) < 42
