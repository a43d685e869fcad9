"""Every entry point that goes through the brain gives the exact answer, and never asks the LLM for it.

The LLM is the OpenAI-compatible test double, because it records what it was asked: a test reads that list
to show the question never reached a model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import websockets
from openai import AsyncOpenAI
from wyoming.asr import Transcript
from wyoming.handle import Handled

from tests.api.live import Client, free_port, live_server
from tests.doubles.openai_server import OpenAiDouble, running_double
from tests.protocols.realtime_client import TEXT_ONLY, ask_in_text, realtime
from tests.protocols.wyoming.conftest import Voxhub, read_until
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

TEXT_ONLY_MODE = {"voice_input": False, "text_input": True, "voice_output": False, "text_output": True}
NOT_CONNECTED = "I'm not connected to Home Assistant, so I can't check or control your home."


@pytest.fixture(scope="module")
async def voxhub(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, engine_pool: EnginePool
) -> AsyncIterator[Voxhub]:
    """A live voxhub (HTTP and Wyoming), no Home Assistant; its LLM is the test double."""
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("data"),
        models_dir=models_dir,
        wyoming_enabled=True,
        wyoming_port=port,
        llm_engine="openai",
        openai_base_url=running_double().base_url,
    )
    shared = Engines(**{stage: await engine_pool.get(stage) for stage in ("vad", "stt", "tts", "wake")})
    async with live_server(settings, EnginePool(settings, shared)) as url:
        yield Voxhub(url, port)


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double().reset()


async def native_text_turn(voxhub: Voxhub, text: str) -> str:
    url = voxhub.http_url.replace("http", "ws", 1) + "/ws?voice_input=false&voice_output=false"
    async with websockets.connect(url) as connection:
        client = Client(connection)
        await client.until("session_started")
        await client.send("text_message", text=text)
        response = await client.until("response")
    return str(response["data"]["text"])


async def test_the_native_socket_answers_arithmetic_exactly(voxhub: Voxhub, double: OpenAiDouble) -> None:
    answer = await native_text_turn(voxhub, "What is 17 times 23?")

    assert answer == "17 times 23 is 391."
    assert double.state.chat_requests == []


async def test_the_native_socket_says_plainly_that_there_is_no_home_assistant(
    voxhub: Voxhub, double: OpenAiDouble
) -> None:
    answer = await native_text_turn(voxhub, "Turn off all the lights in the kitchen")

    assert answer == NOT_CONNECTED
    assert double.state.chat_requests == []


async def test_a_rest_session_answers_a_conversion_exactly(voxhub: Voxhub, double: OpenAiDouble) -> None:
    async with httpx.AsyncClient(base_url=voxhub.http_url) as http:
        created = await http.post("/api/v1/sessions", json={"mode": TEXT_ONLY_MODE})
        session = created.json()["id"]
        reply = await http.post(
            f"/api/v1/sessions/{session}/text", json={"text": "How many minutes in 3 hours?"}
        )

    assert reply.json()["text"] == "There are 180 minutes in 3 hours."
    assert double.state.chat_requests == []


async def test_the_seed_process_route_answers_a_percentage_exactly(
    voxhub: Voxhub, double: OpenAiDouble
) -> None:
    async with httpx.AsyncClient(base_url=voxhub.http_url) as http:
        answer = (await http.post("/process", json={"text": "What is 15 percent of 80?"})).json()

    assert answer["response"] == "15 percent of 80 is 12."
    assert double.state.chat_requests == []


async def test_realtime_answers_a_square_root_exactly(voxhub: Voxhub, double: OpenAiDouble) -> None:
    async with realtime(voxhub.http_url.replace("http", "ws", 1)) as client:
        await client.send(TEXT_ONLY)
        await client.until("session.updated")
        done = await ask_in_text(client, "What is the square root of eighty-one?")

    assert done["response"]["output"][0]["content"][0]["text"] == "The square root of 81 is 9."
    assert double.state.chat_requests == []


async def test_wyoming_handle_answers_a_division_exactly(voxhub: Voxhub, double: OpenAiDouble) -> None:
    async with voxhub.client() as client:
        await client.write_event(Transcript(text="One hundred divided by four?").event())
        reply = (await read_until(client, "handled", "not-handled"))[-1]

    assert reply.type == "handled"
    assert Handled.from_event(reply).text == "100 divided by 4 is 25."
    assert double.state.chat_requests == []


async def test_a_question_it_cannot_answer_exactly_still_reaches_the_llm(
    voxhub: Voxhub, double: OpenAiDouble
) -> None:
    answer = await native_text_turn(voxhub, "What is the capital of France?")

    assert answer == "The capital of France is Paris."
    assert len(double.state.chat_requests) == 1


async def test_openai_chat_completions_answer_a_date_question_exactly(
    voxhub: Voxhub, double: OpenAiDouble
) -> None:
    today = date.today()
    christmas = date(today.year + (date(today.year, 12, 25) < today), 12, 25)
    async with AsyncOpenAI(base_url=f"{voxhub.http_url}/v1", api_key="unused") as client:
        completion = await client.chat.completions.create(
            model="voxhub", messages=[{"role": "user", "content": "How many days until Christmas?"}]
        )

    days = (christmas - today).days
    if days > 1:  # on the day itself, or the day before, the answer is worded differently
        assert completion.choices[0].message.content == f"There are {days} days until Christmas."
    assert double.state.chat_requests == []
