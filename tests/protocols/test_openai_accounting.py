"""`/v1/chat/completions` reports what happened: the tokens the LLM counted and why the answer ended.

voxhub's LLM here is the OpenAI-compatible test double (scripted replies, its own usage figures); the
server's tools run in between, as they do for every client of this route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI

from tests.api.live import live_server
from tests.doubles.openai_server import running_double
from tests.engines.llm.test_repetition import JOKE_LOOP
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

CAPITAL: Any = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
async def url(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, engine_pool: EnginePool
) -> AsyncIterator[str]:
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("accounting"),
        models_dir=models_dir,
        llm_engine="openai",
        openai_base_url=running_double().base_url,
        openai_repetition_guard=True,
        wyoming_enabled=False,
    )
    shared = Engines(stt=await engine_pool.get("stt"), tts=await engine_pool.get("tts"))
    async with live_server(settings, EnginePool(settings, shared)) as base:
        yield base


def client(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{url}/v1", api_key="anything", max_retries=0)


async def test_usage_is_what_the_llm_reported(url: str) -> None:
    running_double().state.usage = (100, 10)

    completion = await client(url).chat.completions.create(model="x", messages=CAPITAL)

    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (100, 10)
    assert completion.usage.total_tokens == 110


async def test_a_streamed_answer_reports_the_llms_usage_too(url: str) -> None:
    running_double().state.usage = (100, 10)

    stream = await client(url).chat.completions.create(
        model="x", messages=CAPITAL, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (100, 10)


async def test_a_server_tool_round_trip_counts_both_llm_calls(url: str) -> None:
    double = running_double()
    double.state.usage = (100, 10)

    completion = await client(url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "What time is it in the calculator's world?"}]
    )

    assert double.state.chat_requests[-1]["messages"][-1]["role"] == "tool"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (200, 20)


async def test_an_answer_cut_by_max_tokens_ends_with_length(url: str) -> None:
    running_double()

    completion = await client(url).chat.completions.create(model="x", messages=CAPITAL, max_tokens=5)

    assert completion.choices[0].message.content == "The capital of France…"
    assert completion.choices[0].finish_reason == "length"


async def test_a_streamed_answer_cut_by_max_tokens_ends_with_length(url: str) -> None:
    running_double()

    stream = await client(url).chat.completions.create(model="x", messages=CAPITAL, max_tokens=5, stream=True)
    chunks = [chunk async for chunk in stream]

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The capital of France…"
    assert chunks[-1].choices[0].finish_reason == "length"


async def test_a_whole_answer_ends_with_stop(url: str) -> None:
    running_double()

    completion = await client(url).chat.completions.create(model="x", messages=CAPITAL, max_tokens=50)

    assert completion.choices[0].message.content == "The capital of France is Paris."
    assert completion.choices[0].finish_reason == "stop"


async def test_a_looping_answer_is_cut_clean_ends_with_length_and_the_history_keeps_the_clean_part(
    url: str,
) -> None:
    running_double().state.reply = JOKE_LOOP

    completion = await client(url).chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Tell me a joke"}], user="looping-joke"
    )
    async with httpx.AsyncClient(base_url=url) as http:
        history = (await http.get("/api/v1/sessions/looping-joke/history")).json()

    clean = "Why did the scarecrow win an award? Because he was a person who is "
    assert completion.choices[0].message.content == clean
    assert completion.choices[0].finish_reason == "length"
    assert history["messages"][-1]["content"].strip() == clean.strip()
