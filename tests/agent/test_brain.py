"""The assistant brain, one turn at a time: what it tells the client, what it asks the LLM, what it runs.

The tool-calling LLM is the OpenAI-compatible test double (`tests/doubles/openai_server.py`): SmolLM2, the
local model, cannot call tools. The offline agent, the emotion model and the tools are the real ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.doubles.openai_server import OpenAiDouble, running_double
from voxhub.agent.brain import Brain, BrainOptions
from voxhub.agent.emotion import EmotionRecognizer
from voxhub.agent.memory import SUMMARY_PREFIX, HistoryCompactor
from voxhub.agent.offline import OfflineAgent
from voxhub.agent.tools.base import FunctionTool, ToolError, ToolResult
from voxhub.agent.tools.builtin import CALCULATOR_SPEC, calculate
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.config import Settings
from voxhub.engines.llm.base import ChatMessage, ToolSpec
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.pipeline.reply import (
    ReplyCompacted,
    ReplyEvent,
    ReplyExchange,
    ReplyFailed,
    ReplyNotice,
    ReplyOptions,
    ReplyRequest,
    ReplyText,
    ReplyToolCalls,
)

SYSTEM = ChatMessage("system", "You are a helpful assistant.")


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double().reset()


@pytest.fixture
def llm(double: OpenAiDouble) -> OpenAiLlm:
    return OpenAiLlm(base_url=double.base_url, api_key=None, model="double", loopback=True)


@pytest.fixture(scope="module")
async def offline() -> OfflineAgent:
    return await OfflineAgent.load(None)


@pytest.fixture(scope="module")
def emotion(session_settings: Settings) -> EmotionRecognizer:
    return EmotionRecognizer.load(session_settings)


def calculator_registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(FunctionTool(CALCULATOR_SPEC, calculate))
    return registry


async def turn(brain: Brain, text: str, **options: Any) -> list[ReplyEvent]:
    request = ReplyRequest("turn_1", (SYSTEM, ChatMessage("user", text)), ReplyOptions("", **options))
    return [event async for event in brain.reply(request)]


def said(events: list[ReplyEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, ReplyText))


def notices(events: list[ReplyEvent], kind: str) -> list[dict[str, Any]]:
    return [event.data for event in events if isinstance(event, ReplyNotice) and event.kind == kind]


async def test_a_happy_user_gets_a_joy_event_and_the_llm_hears_how_they_sound(
    llm: OpenAiLlm, double: OpenAiDouble, emotion: EmotionRecognizer
) -> None:
    events = await turn(Brain(llm, emotion=emotion), "I just won the lottery, this is the best day ever!")

    assert notices(events, "emotion")[0]["label"] == "joy"
    *_, note, words = double.state.chat_requests[0]["messages"]  # late: the cached prompt before it stays
    assert note["role"] == "system"
    assert "The user sounds happy" in note["content"]
    assert words == {"role": "user", "content": "I just won the lottery, this is the best day ever!"}


async def test_an_llm_that_reads_the_tone_note_back_is_heard_saying_only_its_answer(
    llm: OpenAiLlm, double: OpenAiDouble, emotion: EmotionRecognizer
) -> None:
    double.state.reply = "The user sounds happy: answer in a fitting tone. You're welcome, any time!"
    events = await turn(Brain(llm, emotion=emotion), "Thanks a lot, that was wonderful!")

    assert notices(events, "emotion")[0]["label"] == "joy"
    assert said(events) == "You're welcome, any time!"


async def test_an_answer_that_is_only_the_tone_note_is_asked_again_without_the_note(
    llm: OpenAiLlm, double: OpenAiDouble, emotion: EmotionRecognizer
) -> None:
    double.state.reply = "The user sounds happy: answer in a fitting tone."
    events = await turn(Brain(llm, emotion=emotion), "Thanks a lot, that was wonderful!")

    assert said(events) == ""  # the double says the note again: still nothing of it is heard
    first, second = double.state.chat_requests
    assert any("The user sounds" in m["content"] for m in first["messages"])
    assert not any("The user sounds" in m["content"] for m in second["messages"])


async def test_a_command_the_offline_agent_knows_never_reaches_the_llm(
    llm: OpenAiLlm, double: OpenAiDouble, offline: OfflineAgent
) -> None:
    events = await turn(Brain(llm, offline=offline), "What time is it?")

    assert notices(events, "intent")[0]["intent"] == "HassGetCurrentTime"
    assert said(events).startswith("It's")
    assert double.state.chat_requests == []


async def test_a_server_tool_runs_and_its_result_shapes_the_answer(
    llm: OpenAiLlm, double: OpenAiDouble
) -> None:
    double.state.tool_arguments = {"expression": "6 * 7"}
    events = await turn(Brain(llm, tools=calculator_registry()), "Ask the calculator: six times seven?")

    assert notices(events, "tool_call")[0]["name"] == "calculator"
    exchange = next(event for event in events if isinstance(event, ReplyExchange)).messages
    assert exchange[0].tool_calls[0].name == "calculator"
    assert exchange[1].role == "tool"
    assert "42" in exchange[1].content
    assert said(events) == f"The tool says: {exchange[1].content}"


async def test_a_failing_tool_gives_an_error_event_and_a_spoken_apology(
    llm: OpenAiLlm, double: OpenAiDouble
) -> None:
    async def broken(arguments: Mapping[str, Any]) -> ToolResult:
        raise ToolError("the garage door is jammed", spoken="Sorry, the garage door didn't respond.")

    registry = ToolRegistry()
    registry.register(FunctionTool(ToolSpec("open_garage", "Open the garage door."), broken))
    events = await turn(Brain(llm, tools=registry), "Open the garage.")

    failure = next(event for event in events if isinstance(event, ReplyFailed))
    assert failure.code == "tool_error"
    assert "jammed" in failure.message
    assert said(events) == "Sorry, the garage door didn't respond."


async def test_the_clients_own_tools_go_back_to_the_client(llm: OpenAiLlm) -> None:
    weather = ToolSpec("get_weather", "The weather in a city.")
    events = await turn(Brain(llm), "Weather in Paris?", tools=(weather,))

    calls = next(event for event in events if isinstance(event, ReplyToolCalls)).calls
    assert calls[0].name == "get_weather"
    assert calls[0].arguments_json == '{"city": "Paris"}'


async def test_when_the_llm_is_down_the_offline_agent_answers_and_says_why(
    llm: OpenAiLlm, double: OpenAiDouble, offline: OfflineAgent
) -> None:
    double.state.fail_status = 500
    brain = Brain(llm, BrainOptions(offline_first=False), offline=offline)

    events = await turn(brain, "What time is it?")

    assert notices(events, "fallback")[0]["fallback"] is True
    assert notices(events, "fallback")[0]["reason"]
    assert said(events).startswith("It's")


async def test_when_the_llm_is_down_and_nothing_matches_the_user_hears_an_apology(
    llm: OpenAiLlm, double: OpenAiDouble, offline: OfflineAgent
) -> None:
    double.state.fail_status = 503
    events = await turn(Brain(llm, offline=offline), "Write me a poem about the sea.")

    assert notices(events, "fallback")
    assert "can't reach my language model" in said(events)


async def test_a_persona_acknowledgement_is_said_before_the_llm_answers(llm: OpenAiLlm) -> None:
    events = await turn(Brain(llm, BrainOptions(acknowledgements=("Sure thing.",))), "Tell me something.")

    assert said(events) == "Sure thing. The capital of France is Paris."


async def test_a_long_history_is_summarised_and_the_summary_replaces_the_oldest_turns(llm: OpenAiLlm) -> None:
    history = []
    for index in range(30):
        history += [
            ChatMessage("user", f"Question {index}? " * 20),
            ChatMessage("assistant", "An answer. " * 20),
        ]
    llm.capabilities = llm.capabilities.__class__(model="double", context_tokens=2048, tool_calling=True)
    brain = Brain(llm, compactor=HistoryCompactor(llm))
    messages = (SYSTEM, *history, ChatMessage("user", "And now?"))

    events = [
        event async for event in brain.reply(ReplyRequest("t", messages, ReplyOptions("", max_tokens=100)))
    ]

    compacted = next(event for event in events if isinstance(event, ReplyCompacted))
    assert compacted.summary.content.startswith(SUMMARY_PREFIX)
    assert compacted.replaced[0] is history[0]
    assert all(message is not history[-1] for message in compacted.replaced)
    assert compacted.replaced[-1].role == "assistant"  # a whole number of turns
