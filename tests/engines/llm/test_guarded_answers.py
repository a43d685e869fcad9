"""What the engines send and end with around loops: the local engine's decoding reaches llama.cpp, and an
answer that loops stops early, clean, with a finish reason that says it was cut."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.doubles.openai_server import OpenAiDouble, running_double
from tests.engines.llm.test_repetition import CONTINENTS_LOOP, JOKE_LOOP
from voxhub.config import Settings
from voxhub.engines.llm.base import LOOP_CUT, ChatMessage, complete
from voxhub.engines.llm.local import LOCAL_SAMPLING, LocalLlm
from voxhub.engines.llm.openai import OpenAiLlm

JOKE = [ChatMessage("user", "Tell me a joke")]


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double()


@pytest.fixture
async def guarded(settings: Settings, double: OpenAiDouble) -> AsyncIterator[OpenAiLlm]:
    engine = OpenAiLlm.from_settings(
        settings.model_copy(update={"openai_base_url": double.base_url, "openai_repetition_guard": True})
    )
    yield engine
    await engine.aclose()


async def test_the_local_engine_sends_llama_cpp_its_decoding_with_every_request(
    settings: Settings, double: OpenAiDouble
) -> None:
    # The double answers as llama.cpp's server would, so the request the local engine makes can be read.
    server = SimpleNamespace(listening_address=double.base_url.removesuffix("/v1"))
    engine = LocalLlm(server, "key", Path("SmolLM2-135M-Instruct.Q4_1.gguf"), settings)

    await complete(engine, JOKE)
    await engine.aclose()

    sent = double.state.chat_requests[-1]
    assert {name: sent.get(name) for name in LOCAL_SAMPLING} == LOCAL_SAMPLING
    assert sent["dry_multiplier"] > 0


async def test_a_looping_answer_stops_after_its_clean_part(guarded: OpenAiLlm, double: OpenAiDouble) -> None:
    double.state.reply = JOKE_LOOP

    answer = await complete(guarded, JOKE)

    assert answer.text == "Why did the scarecrow win an award? Because he was a person who is "
    assert answer.finish_reason == LOOP_CUT


async def test_a_runaway_number_keeps_its_first_group(guarded: OpenAiLlm, double: OpenAiDouble) -> None:
    double.state.reply = CONTINENTS_LOOP

    answer = await complete(guarded, [ChatMessage("user", "How many continents are there?")])

    assert answer.text == "There are 7"
    assert answer.finish_reason == LOOP_CUT


async def test_a_clean_answer_through_the_guard_is_whole_and_streamed(
    guarded: OpenAiLlm, double: OpenAiDouble
) -> None:
    chunks = [chunk async for chunk in guarded.chat([ChatMessage("user", "Capital of France?")])]

    texts = [chunk.text for chunk in chunks if chunk.text]
    assert len(texts) > 1
    assert "".join(texts) == "The capital of France is Paris."
    assert chunks[-1].finish_reason == "stop"
