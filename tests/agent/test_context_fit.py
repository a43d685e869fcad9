"""A prompt fitted to the LLM's context: the oldest turns go, the system prompt, tools and newest turn stay."""

from __future__ import annotations

from tests.doubles.openai_server import running_double
from voxhub.agent.brain import Brain
from voxhub.agent.context_fit import fit_context, message_tokens
from voxhub.engines.llm.base import ChatMessage, ToolCall, ToolSpec
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.pipeline.reply import ReplyOptions, ReplyRequest, ReplyText

SYSTEM = ChatMessage("system", "You are a home assistant. " * 20)
TOOL = ToolSpec("execute_services", "Run Home Assistant services.", {"type": "object", "properties": {}})


def history(turns: int) -> list[ChatMessage]:
    messages = [SYSTEM]
    for turn in range(turns):
        messages += [
            ChatMessage("user", f"Question number {turn} " * 5),
            ChatMessage("assistant", "An answer. " * 5),
        ]
    return messages


def test_a_prompt_that_fits_is_sent_as_it_is() -> None:
    messages = history(3)

    fitted = fit_context(messages, [TOOL], context_tokens=2048, max_tokens=64)

    assert fitted.messages == messages
    assert (fitted.max_tokens, fitted.dropped) == (64, 0)


def test_a_long_history_loses_its_oldest_turns_and_keeps_the_system_prompt_and_the_newest() -> None:
    messages = [*history(200), ChatMessage("user", "And now?")]

    fitted = fit_context(messages, [TOOL], context_tokens=2048, max_tokens=64)

    assert fitted.messages[0] == SYSTEM
    assert fitted.messages[-1] == ChatMessage("user", "And now?")
    assert fitted.messages[1].role == "user"  # whole turns: it starts at a question
    assert fitted.dropped > 0
    assert sum(map(message_tokens, fitted.messages)) + fitted.max_tokens <= 2048


def test_a_tool_call_never_loses_its_result() -> None:
    call = ToolCall("call_1", "execute_services", "{}")
    messages = [SYSTEM]
    for turn in range(100):
        messages += [
            ChatMessage("user", f"Turn on light {turn}, please."),
            ChatMessage("assistant", "", tool_calls=(call,)),
            ChatMessage("tool", "[{'success': True}]", tool_call_id="call_1"),
            ChatMessage("assistant", f"Turned on light {turn}."),
        ]

    fitted = fit_context(messages, [TOOL], context_tokens=1024, max_tokens=32)

    roles = [m.role for m in fitted.messages]
    assert roles[:2] == ["system", "user"]
    assert all(roles[i + 1] == "tool" for i, m in enumerate(fitted.messages) if m.tool_calls)


def test_a_system_prompt_longer_than_the_context_is_cut_in_the_middle_not_refused() -> None:
    prompt = "Start of the instructions. " + "Devices and more devices. " * 2000 + "The last instruction."
    messages = [ChatMessage("system", prompt), ChatMessage("user", "Hello?")]

    fitted = fit_context(messages, [], context_tokens=2048, max_tokens=256)

    assert fitted.shortened == 1
    assert fitted.messages[0].content.startswith("Start of the instructions.")
    assert fitted.messages[0].content.endswith("The last instruction.")
    assert fitted.messages[-1] == ChatMessage("user", "Hello?")
    assert sum(map(message_tokens, fitted.messages)) + fitted.max_tokens <= 2048


async def test_a_native_conversations_llm_call_is_fitted_too() -> None:
    # The OpenAI-compatible test double stands in for the LLM server and records what it was sent.
    double = running_double()
    llm = OpenAiLlm(
        base_url=double.base_url, api_key=None, model="double", loopback=True, context_tokens=1024
    )
    messages = (*history(200), ChatMessage("user", "And now?"))

    events = [event async for event in Brain(llm).reply(ReplyRequest("t1", messages, ReplyOptions("", 64)))]

    sent = double.state.chat_requests[-1]["messages"]
    assert sent[0]["content"] == SYSTEM.content
    assert sent[-1] == {"role": "user", "content": "And now?"}
    assert len(sent) < len(messages)
    assert double.state.chat_requests[-1]["max_tokens"] == 64
    assert "".join(e.text for e in events if isinstance(e, ReplyText)) == double.state.reply
