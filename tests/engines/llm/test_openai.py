"""The `openai` LLM engine, driven through the real SDK against the OpenAI-compatible test double."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from tests.doubles.openai_server import OpenAiDouble, running_double
from voxhub.config import Settings
from voxhub.engines.llm.base import ChatMessage, ToolSpec, complete
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.errors import ConfigError, EngineError

WEATHER = ToolSpec(
    "get_weather",
    "The current weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TIME = ToolSpec("get_time", "The current time.")
QUESTION = [ChatMessage("user", "What is the weather in Paris?")]


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double()


@pytest.fixture
def remote_settings(settings: Settings, double: OpenAiDouble) -> Settings:
    return settings.model_copy(update={"openai_base_url": double.base_url})


@pytest.fixture
async def llm(remote_settings: Settings) -> AsyncIterator[OpenAiLlm]:
    engine = OpenAiLlm.from_settings(remote_settings)
    yield engine
    await engine.aclose()


async def test_reply_streams_in_pieces_that_join_to_the_answer(llm: OpenAiLlm, double: OpenAiDouble) -> None:
    chunks = [chunk async for chunk in llm.chat([ChatMessage("user", "What is the capital of France?")])]

    texts = [chunk.text for chunk in chunks if chunk.text]
    assert len(texts) > 1
    assert "".join(texts) == "The capital of France is Paris."
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(texts)


async def test_tool_call_round_trip(llm: OpenAiLlm, double: OpenAiDouble) -> None:
    first = await complete(llm, QUESTION, tools=[WEATHER])
    assert first.finish_reason == "tool_calls"
    [call] = first.tool_calls
    assert call.name == "get_weather"
    assert json.loads(call.arguments_json) == {"city": "Paris"}

    history = [
        *QUESTION,
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "18 degrees and sunny", tool_call_id=call.id),
    ]
    final = await complete(llm, history, tools=[WEATHER])

    assert final.text == "The tool says: 18 degrees and sunny"
    assert final.tool_calls == ()
    sent = double.state.chat_requests[-1]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id
    assert sent[2] == {"role": "tool", "content": "18 degrees and sunny", "tool_call_id": call.id}


async def test_tool_choice_none_answers_in_text(llm: OpenAiLlm) -> None:
    reply = await complete(llm, QUESTION, tools=[WEATHER], tool_choice="none")

    assert reply.tool_calls == ()
    assert reply.text == "The capital of France is Paris."


async def test_tool_choice_naming_a_tool_calls_that_tool(llm: OpenAiLlm) -> None:
    reply = await complete(llm, QUESTION, tools=[WEATHER, TIME], tool_choice="get_time")

    assert [call.name for call in reply.tool_calls] == ["get_time"]


async def test_server_error_is_an_engine_error(llm: OpenAiLlm, double: OpenAiDouble) -> None:
    double.state.fail_status = 500

    with pytest.raises(EngineError, match="HTTP 500"):
        await complete(llm, QUESTION)


async def test_wrong_key_is_an_engine_error_that_does_not_show_the_key(
    remote_settings: Settings, double: OpenAiDouble
) -> None:
    double.state.api_key = "right-key"
    llm = OpenAiLlm.from_settings(
        remote_settings.model_copy(update={"openai_api_key": SecretStr("wrong-key")})
    )

    with pytest.raises(EngineError, match="HTTP 401") as raised:
        await complete(llm, QUESTION)
    await llm.aclose()

    assert "wrong-key" not in raised.value.message
    assert "VOXHUB_OPENAI_API_KEY" in raised.value.message


async def test_unreachable_server_is_an_engine_error(settings: Settings) -> None:
    llm = OpenAiLlm.from_settings(settings.model_copy(update={"openai_base_url": "http://127.0.0.1:9/v1"}))

    with pytest.raises(EngineError, match=r"connection to .* failed"):
        await complete(llm, QUESTION)
    await llm.aclose()


async def test_missing_base_url_names_the_setting(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"openai_base_url \(VOXHUB_OPENAI_BASE_URL\)"):
        OpenAiLlm.from_settings(settings)


async def test_the_token_cap_ends_the_answer_with_length(llm: OpenAiLlm, double: OpenAiDouble) -> None:
    answer = await complete(llm, [ChatMessage("user", "What is the capital of France?")], max_tokens=3)

    assert answer.text == "The capital…"  # no whole sentence: its whole words, trailing off
    assert answer.finish_reason == "length"
