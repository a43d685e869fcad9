"""The LLM chain (`llm_fallbacks`): when an LLM fails before its first word, the next answers the same turn.

The remote LLMs are test doubles (`tests/doubles/openai_server.py`) standing in for Ollama or a cloud API,
which this machine cannot reach; the embedded model at the end of the chain is the real one.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from tests.doubles.openai_server import OpenAiDouble, more_doubles
from voxhub.agent.brain import Brain
from voxhub.config import Settings
from voxhub.engines.llm.base import ChatMessage, LlmChunk, LlmEngine
from voxhub.engines.llm.chain import load_llm
from voxhub.engines.llm.fallback import LLM_SWITCH, FallbackLlm
from voxhub.errors import EngineError
from voxhub.pipeline.reply import ReplyNotice, ReplyOptions, ReplyRequest, ReplyText

QUESTION = [ChatMessage("user", "What is the capital of France?")]


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def doubles() -> list[OpenAiDouble]:
    first, second = more_doubles(2)
    first.state.reply, second.state.reply = "First here.", "Second here."
    return [first, second]


async def _chain(settings: Settings, doubles: list[OpenAiDouble], timeout_secs: float) -> FallbackLlm:
    first, second = doubles
    settings = settings.model_copy(
        update={
            "llm_engine": "openai",
            "openai_base_url": first.base_url,
            "openai_llm_model": "remote",
            "openai_timeout_secs": timeout_secs,
            "llm_fallbacks": [f"nearby@{second.base_url}"],
            "llm_fallback_cooldown_secs": 30.0,
        }
    )
    engine = await load_llm("openai", settings)
    assert isinstance(engine, FallbackLlm)
    engine._clock = Clock()
    return engine


@pytest.fixture
async def chain(settings: Settings, doubles: list[OpenAiDouble]) -> AsyncIterator[FallbackLlm]:
    """`openai` (the first double) with the second double behind it, on a clock the test moves."""
    engine = await _chain(settings, doubles, timeout_secs=30.0)
    yield engine
    await engine.aclose()


async def _answer(engine: LlmEngine) -> tuple[str, list[dict[str, object]]]:
    """The text, and the data of every `llm_switch` notice on the way."""
    chunks: list[LlmChunk] = [chunk async for chunk in engine.chat(QUESTION)]
    switches = [dict(chunk.notice[1]) for chunk in chunks if chunk.notice and chunk.notice[0] == LLM_SWITCH]
    return "".join(chunk.text for chunk in chunks), switches


async def test_while_the_first_llm_works_it_answers_and_nothing_switches(chain: FallbackLlm) -> None:
    assert await _answer(chain) == ("First here.", [])
    assert chain.answering == "remote (OpenAI-compatible API)"


async def test_a_5xx_from_the_first_llm_has_the_next_answer_the_same_turn_and_says_so(
    chain: FallbackLlm, doubles: list[OpenAiDouble]
) -> None:
    doubles[0].state.fail_status = 503

    text, switches = await _answer(chain)

    assert text == "Second here."
    assert switches[0]["llm"] == "nearby (fallback server)"
    assert switches[0]["previous_llm"] == "remote (OpenAI-compatible API)"
    assert "HTTP 503" in str(switches[0]["reason"])
    assert chain.answering == "nearby (fallback server)"


async def test_a_timeout_before_the_first_token_has_the_next_answer(
    settings: Settings, doubles: list[OpenAiDouble]
) -> None:
    doubles[0].state.delay_secs = 60.0  # far past openai_timeout_secs
    chain = await _chain(settings, doubles, timeout_secs=2.0)
    try:
        text, switches = await _answer(chain)
    finally:
        await chain.aclose()

    assert text == "Second here."
    assert "did not answer in time" in str(switches[0]["reason"])


async def test_a_refused_connection_has_the_next_answer(
    settings: Settings, doubles: list[OpenAiDouble]
) -> None:
    settings = settings.model_copy(
        update={"openai_base_url": _closed_port_url(), "llm_fallbacks": [f"nearby@{doubles[1].base_url}"]}
    )
    engine = await load_llm("openai", settings)
    try:
        text, switches = await _answer(engine)
    finally:
        await engine.aclose()

    assert text == "Second here."
    assert "connection" in str(switches[0]["reason"])


async def test_a_failed_llm_is_skipped_while_it_cools_down_then_answers_again(
    chain: FallbackLlm, doubles: list[OpenAiDouble]
) -> None:
    first = doubles[0]
    first.state.fail_status = 500
    await _answer(chain)
    first.state.fail_status = None
    asked = len(first.state.chat_requests)

    during = await _answer(chain)
    assert chain.members[0].cooling(chain._clock())
    chain._clock.now += 31  # type: ignore[attr-defined]
    after = await _answer(chain)

    assert during == ("Second here.", [])
    assert len(first.state.chat_requests) == asked + 1  # asked again only after its cool-down
    assert after[0] == "First here."
    assert after[1][0]["reason"] == "remote (OpenAI-compatible API) answers again after its cool-down"


async def test_a_request_the_llm_refuses_as_malformed_is_not_passed_on(
    chain: FallbackLlm, doubles: list[OpenAiDouble]
) -> None:
    doubles[0].state.fail_status = 400

    with pytest.raises(EngineError, match="HTTP 400"):
        await _answer(chain)
    assert doubles[1].state.chat_requests == []


async def test_when_every_llm_fails_the_error_names_each(
    chain: FallbackLlm, doubles: list[OpenAiDouble]
) -> None:
    for double in doubles:
        double.state.fail_status = 502

    with pytest.raises(EngineError, match="no LLM of the chain could answer") as raised:
        await _answer(chain)
    assert "remote (OpenAI-compatible API)" in raised.value.message
    assert "nearby (fallback server)" in raised.value.message


@pytest.mark.slow
async def test_by_default_the_embedded_model_ends_the_chain_and_answers_when_the_remote_fails(
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"openai_base_url": _closed_port_url()})
    assert settings.llm_fallbacks == ["local"]
    engine = await load_llm("openai", settings)
    try:
        chunks = [chunk async for chunk in engine.chat(QUESTION, max_tokens=12)]
    finally:
        await engine.aclose()

    switch = next(chunk.notice[1] for chunk in chunks if chunk.notice)
    assert str(switch["llm"]).endswith("(embedded)")
    assert "".join(chunk.text for chunk in chunks).strip()


async def test_a_conversation_hears_the_next_llm_and_gets_an_llm_switch_event(
    chain: FallbackLlm, doubles: list[OpenAiDouble]
) -> None:
    doubles[0].state.fail_status = 503
    brain = Brain(chain)
    request = ReplyRequest("turn-1", tuple(QUESTION), ReplyOptions(system_prompt=""))

    events = [event async for event in brain.reply(request)]

    switch = next(event for event in events if isinstance(event, ReplyNotice) and event.kind == LLM_SWITCH)
    assert switch.data["llm"] == "nearby (fallback server)"
    assert "".join(event.text for event in events if isinstance(event, ReplyText)) == "Second here."
    assert not [event for event in events if isinstance(event, ReplyNotice) and event.kind == "fallback"]
