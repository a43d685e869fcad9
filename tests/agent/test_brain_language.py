"""The brain answers in the turn's language: the one heard, which the pipeline sets on each request."""

from __future__ import annotations

import pytest

from tests.agent.test_brain import notices, turn
from tests.doubles.openai_server import OpenAiDouble, running_double
from voxhub.agent.brain import Brain, BrainOptions
from voxhub.agent.offline import OfflineAgent
from voxhub.engines.llm.openai import OpenAiLlm


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double().reset()


@pytest.fixture
def llm(double: OpenAiDouble) -> OpenAiLlm:
    return OpenAiLlm(base_url=double.base_url, api_key=None, model="double", loopback=True)


async def test_polish_heard_in_an_english_conversation_is_answered_in_polish(
    llm: OpenAiLlm, double: OpenAiDouble
) -> None:
    await turn(Brain(llm, BrainOptions(language="en")), "Jaka jest stolica Francji?", language="pl")

    system = double.state.chat_requests[0]["messages"][0]
    assert system["role"] == "system"
    assert "always answer in Polish" in system["content"]


async def test_english_heard_in_a_polish_conversation_gets_no_polish_instruction(
    llm: OpenAiLlm, double: OpenAiDouble
) -> None:
    await turn(Brain(llm, BrainOptions(language="pl")), "What is the capital of France?", language="en")

    messages = double.state.chat_requests[0]["messages"]
    assert not any("answer in Polish" in message["content"] for message in messages)


async def test_a_typed_turn_is_answered_in_the_conversation_language(
    llm: OpenAiLlm, double: OpenAiDouble
) -> None:
    await turn(Brain(llm, BrainOptions(language="pl")), "Jaka jest stolica Francji?")

    assert "always answer in Polish" in double.state.chat_requests[0]["messages"][0]["content"]


async def test_english_heard_in_a_polish_conversation_reaches_the_english_offline_commands(
    llm: OpenAiLlm, double: OpenAiDouble
) -> None:
    offline = await OfflineAgent.load(None)
    brain = Brain(llm, BrainOptions(language="pl"), offline=offline)

    events = await turn(brain, "What time is it?", language="en")

    assert notices(events, "intent")[0]["intent"] == "HassGetCurrentTime"
    assert double.state.chat_requests == []
    await offline.aclose()
