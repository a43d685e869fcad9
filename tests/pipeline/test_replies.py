"""What a reply source (the LLM, or the assistant brain around it) can do to a turn, as the client sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from tests.pipeline.scripted_llm import ScriptedLlm
from voxhub.engines.llm.base import ChatMessage, ToolCall
from voxhub.engines.llm.fallback import LLM_SWITCH, FallbackLlm, Member
from voxhub.pipeline.frames import NoticeFrame, ResponseFrame, ToolCallsFrame
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.reply import (
    LlmReplies,
    ReplyEvent,
    ReplyExchange,
    ReplyNotice,
    ReplyOptions,
    ReplyRequest,
    ReplyText,
    ReplyToolCalls,
)

TEXT_ONLY = ModeState(voice_input=False, voice_output=False, text_input=True, text_output=True)
LIGHT_ON = ToolCall("call_1", "turn_on", '{"entity": "light.kitchen"}')


@dataclass
class ScriptedReplies:
    """Stands in for the brain: answers every turn with `script(request)`, and remembers the requests."""

    script: Callable[[ReplyRequest], list[ReplyEvent]]
    requests: list[ReplyRequest] = field(default_factory=list)

    async def reply(self, request: ReplyRequest) -> AsyncIterator[ReplyEvent]:
        self.requests.append(request)
        for event in self.script(request):
            yield event


async def test_a_notice_reaches_the_client_as_an_event_of_its_turn(talk) -> None:
    replies = ScriptedReplies(lambda _: [ReplyNotice("emotion", {"label": "joy"}), ReplyText("Great!")])
    conversation, recorder = await talk(mode=TEXT_ONLY, replies=replies)

    await conversation.push_text("I got the job!")
    await recorder.wait_for(lambda: bool(recorder.of(ResponseFrame)))

    notice = recorder.of(NoticeFrame)[0]
    assert (notice.kind, notice.data) == ("emotion", {"label": "joy"})
    assert notice.turn_id == recorder.of(ResponseFrame)[0].turn_id


async def test_tools_the_server_ran_are_kept_in_history_before_the_answer(talk) -> None:
    exchange = (
        ChatMessage("assistant", "", tool_calls=(LIGHT_ON,)),
        ChatMessage("tool", "ok", tool_call_id="call_1"),
    )
    replies = ScriptedReplies(lambda _: [ReplyExchange(exchange), ReplyText("The light is on.")])
    conversation, recorder = await talk(mode=TEXT_ONLY, replies=replies)

    await conversation.push_text("Kitchen light on, please.")
    await recorder.wait_for(lambda: bool(recorder.commits))

    assert recorder.commits[0].exchange == exchange
    assert [m.role for m in conversation.memory.messages] == ["user", "assistant", "tool", "assistant"]


async def test_a_call_of_the_clients_tool_ends_the_turn_and_its_output_starts_the_next(talk) -> None:
    def script(request: ReplyRequest) -> list[ReplyEvent]:
        if request.messages[-1].role == "tool":
            return [ReplyText(f"Done: {request.messages[-1].content}.")]
        return [ReplyToolCalls((LIGHT_ON,))]

    replies = ScriptedReplies(script)
    conversation, recorder = await talk(mode=TEXT_ONLY, replies=replies)

    await conversation.push_text("Kitchen light on, please.")
    await recorder.wait_for(lambda: bool(recorder.of(ResponseFrame)))
    assert recorder.of(ToolCallsFrame)[0].calls == (LIGHT_ON,)
    assert recorder.commits[0].tool_calls == (LIGHT_ON,)

    await conversation.respond((ChatMessage("tool", "light is on", tool_call_id="call_1"),))
    await recorder.wait_for(lambda: len(recorder.of(ResponseFrame)) == 2)

    assert recorder.of(ResponseFrame)[1].text == "Done: light is on."
    asked = replies.requests[1].messages
    assert asked[-2].tool_calls == (LIGHT_ON,)
    assert asked[-1] == ChatMessage("tool", "light is on", tool_call_id="call_1")


async def test_without_the_assistant_a_switch_of_the_llm_chain_reaches_the_client_as_llm_switch(talk) -> None:
    remote = ScriptedLlm("I am the remote one.", fail_status=503)
    embedded = ScriptedLlm("I am the embedded one.")
    chain = FallbackLlm(
        [Member("remote (OpenAI-compatible API)", engine=remote), Member("embedded", engine=embedded)],
        name="openai",
    )
    conversation, recorder = await talk(mode=TEXT_ONLY, llm=chain)  # no `replies`: the plain LLM answers

    await conversation.push_text("Who are you?")
    await recorder.wait_for(lambda: bool(recorder.of(ResponseFrame)))

    [switch] = [frame for frame in recorder.of(NoticeFrame) if frame.kind == LLM_SWITCH]
    assert switch.data["llm"] == "embedded"
    assert switch.data["previous_llm"] == "remote (OpenAI-compatible API)"
    assert "HTTP 503" in switch.data["reason"]
    assert recorder.of(ResponseFrame)[0].text == "I am the embedded one."
    assert switch.turn_id == recorder.of(ResponseFrame)[0].turn_id


async def test_the_plain_llm_source_passes_a_switch_on_before_the_text() -> None:
    chain = FallbackLlm(
        [
            Member("remote", engine=ScriptedLlm(fail_status=502)),
            Member("embedded", engine=ScriptedLlm("Hi.")),
        ],
        name="openai",
    )
    request = ReplyRequest("turn-1", (ChatMessage("user", "Hello"),), ReplyOptions(system_prompt=""))

    events = [event async for event in LlmReplies(chain).reply(request)]

    assert [type(event) for event in events] == [ReplyNotice, ReplyText]
    assert isinstance(events[0], ReplyNotice)
    assert (events[0].kind, events[0].data["llm"]) == (LLM_SWITCH, "embedded")
