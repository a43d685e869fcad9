"""`llm_engine: auto` finds the OpenAI-compatible servers on this machine and answers with the best model.

The servers are test doubles (`tests/doubles/openai_server.py`) standing in for Ollama, LM Studio and the
like, which this machine does not run; `llm_auto_servers` points the probe at them and nowhere else.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from tests.doubles.openai_server import OpenAiDouble, more_doubles
from voxhub.config import Settings
from voxhub.engines.llm.base import ChatMessage, LlmEngine, complete
from voxhub.engines.llm.chain import load_llm
from voxhub.engines.llm.probe import FoundModel, best_model, params_billions


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there once the probe is closed


@pytest.fixture
def doubles() -> list[OpenAiDouble]:
    return more_doubles(2)


@pytest.fixture
async def loaded() -> AsyncIterator[list[LlmEngine]]:
    """Engines a test loads, closed after it."""
    engines: list[LlmEngine] = []
    yield engines
    for engine in engines:
        await engine.aclose()


async def _auto(
    settings: Settings, loaded: list[LlmEngine], budget: float = 10.0, **servers: str
) -> LlmEngine:
    """`auto` looking at `servers` only; the budget is one no busy machine runs out of (the probe returns as
    soon as every server has answered)."""
    update = {"llm_auto_servers": servers, "llm_fallbacks": [], "llm_auto_timeout_secs": budget}
    auto = settings.model_copy(update=update)
    engine = await load_llm("auto", auto)
    loaded.append(engine)
    return engine


async def test_auto_answers_with_the_best_chat_model_the_servers_on_this_machine_offer(
    settings: Settings, doubles: list[OpenAiDouble], loaded: list[LlmEngine]
) -> None:
    ollama, studio = doubles
    ollama.state.models = ["llama3.2:1b", "nomic-embed-text:latest", "qwen2.5:3b"]
    studio.state.models = ["smollm2-360m-instruct"]

    engine = await _auto(settings, loaded, Ollama=ollama.base_url, **{"LM Studio": studio.base_url})
    answer = await complete(engine, [ChatMessage("user", "What is the capital of France?")])

    assert engine.capabilities.model == "qwen2.5:3b"
    assert answer.text == "The capital of France is Paris."
    assert [request["model"] for request in ollama.state.chat_requests] == ["qwen2.5:3b"]
    assert studio.state.chat_requests == []


async def test_an_ollama_that_lists_its_models_only_under_api_tags_is_found(
    settings: Settings, doubles: list[OpenAiDouble], loaded: list[LlmEngine]
) -> None:
    ollama = doubles[0]
    ollama.state.models, ollama.state.tags_only = ["gemma3:4b"], True

    engine = await _auto(settings, loaded, Ollama=ollama.base_url)

    assert engine.capabilities.model == "gemma3:4b"


async def test_a_server_that_does_not_answer_within_the_budget_is_left_out(
    settings: Settings, doubles: list[OpenAiDouble], loaded: list[LlmEngine]
) -> None:
    slow, quick = doubles
    slow.state.models, slow.state.delay_secs = ["qwen2.5:7b"], 60.0
    quick.state.models = ["llama3.2:3b"]

    engine = await _auto(settings, loaded, budget=3.0, slow=slow.base_url, quick=quick.base_url)

    assert engine.capabilities.model == "llama3.2:3b"


async def test_another_voxhub_on_a_probed_port_is_never_chosen(
    settings: Settings, doubles: list[OpenAiDouble], loaded: list[LlmEngine]
) -> None:
    voxhub, ollama = doubles
    voxhub.state.models, voxhub.state.owned_by = ["local", "qwen2.5:14b"], "voxhub"
    ollama.state.models = ["llama3.2:1b"]

    engine = await _auto(settings, loaded, voxhub=voxhub.base_url, Ollama=ollama.base_url)

    assert engine.capabilities.model == "llama3.2:1b"


@pytest.mark.slow
async def test_with_no_server_found_the_embedded_model_answers(
    settings: Settings, loaded: list[LlmEngine]
) -> None:
    engine = await _auto(settings, loaded, Ollama=_closed_port_url())

    assert engine.name == "local"
    assert (await complete(engine, [ChatMessage("user", "Say hello.")], max_tokens=8)).text


def test_the_largest_chat_model_within_the_size_limit_is_best() -> None:
    found = [
        FoundModel("Ollama", "u", model)
        for model in ("qwen2.5:0.5b", "llama3.1:8b", "llama3.3:70b", "bge-m3", "qwen2.5:3b")
    ]
    assert best_model(found, max_params_b=14).model == "llama3.1:8b"  # type: ignore[union-attr]
    assert best_model(found, max_params_b=2).model == "qwen2.5:0.5b"  # type: ignore[union-attr]


def test_a_model_larger_than_the_limit_is_taken_when_nothing_else_is_served() -> None:
    found = [
        FoundModel("vLLM", "u", "meta-llama/Llama-3.3-70B-Instruct"),
        FoundModel("vLLM", "u", "e5-large"),
    ]
    assert best_model(found, max_params_b=14).model == "meta-llama/Llama-3.3-70B-Instruct"  # type: ignore[union-attr]


def test_of_two_models_of_one_size_the_preferred_family_wins_and_a_coder_comes_after() -> None:
    found = [FoundModel("Ollama", "u", model) for model in ("qwen2.5-coder:7b", "mistral:7b", "qwen2.5:7b")]
    assert best_model(found, max_params_b=14).model == "qwen2.5:7b"  # type: ignore[union-attr]


def test_the_size_is_read_from_the_models_name() -> None:
    sizes = {name: params_billions(name) for name in ("llama3.2:3b", "mixtral:8x7b", "SmolLM2-360M", "phi4")}
    assert sizes == {"llama3.2:3b": 3.0, "mixtral:8x7b": 56.0, "SmolLM2-360M": 0.36, "phi4": 0.0}
