"""A timer set by a one-shot REST turn (`/offline/chat`, `/process`) rings on the session's open socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import websockets

from tests.api.live import Client, live_server
from tests.doubles.openai_server import running_double
from voxhub.config import Settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

pytestmark = pytest.mark.slow


@asynccontextmanager
async def server_and_socket(
    settings: Settings, engine_pool: EnginePool, data_dir: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Client, str]]:
    """A live server (its LLM the test double, never asked here), an HTTP client, and a text socket's session."""
    double = running_double().reset()
    settings = settings.model_copy(
        update={"llm_engine": "openai", "openai_base_url": double.base_url, "data_dir": data_dir}
    )
    shared = Engines(**{stage: await engine_pool.get(stage) for stage in ("vad", "stt", "tts", "wake")})
    async with live_server(settings, EnginePool(settings, shared)) as url:
        query = "voice_input=false&voice_output=false"
        async with (
            websockets.connect(url.replace("http", "ws", 1) + f"/ws?{query}") as connection,
            httpx.AsyncClient(base_url=url, timeout=60) as http,
        ):
            socket = Client(connection)
            started = await socket.until("session_started")
            yield http, socket, started["session_id"]
    assert double.state.chat_requests == []


async def test_a_timer_set_through_offline_chat_rings_on_the_sessions_socket(
    session_settings: Settings, engine_pool: EnginePool, tmp_path: Path
) -> None:
    async with server_and_socket(session_settings, engine_pool, tmp_path / "data") as (http, socket, session):
        answer = (
            await http.post("/offline/chat", json={"text": "set a 1 second egg timer", "session_id": session})
        ).json()
        finished = await socket.until("timer_finished", timeout_secs=15)
        announced = await socket.until("response", timeout_secs=15)

    assert answer["response"] == "Your egg timer is set for 1 second."
    assert answer["session_id"] == session
    assert finished["data"]["name"] == "egg"
    assert announced["data"]["text"] == "Your egg timer is done."


async def test_a_timer_set_through_process_outlives_its_turn(
    session_settings: Settings, engine_pool: EnginePool, tmp_path: Path
) -> None:
    async with server_and_socket(session_settings, engine_pool, tmp_path / "data") as (http, socket, session):
        answer = (
            await http.post(
                "/process", json={"text": "Set a timer for 1 second for the toast", "session_id": session}
            )
        ).json()
        finished = await socket.until("timer_finished", timeout_secs=15)

    assert answer["response"] == "Your toast timer is set for 1 second."
    assert finished["data"]["text"] == "Your toast timer is done."
