"""A conversation from the client's side: what arrives, in which order, and what history keeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.pipeline.conftest import Recorder, speak_in_real_time
from tests.speech import espeak_speech, padded
from voxhub.engines.tts.openai import OpenAiTts
from voxhub.errors import InputError
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import (
    AudioOutEndFrame,
    AudioOutFrame,
    AudioStartFrame,
    ErrorFrame,
    InterruptFrame,
    ModeChangedFrame,
    ResponseDeltaFrame,
    ResponseFrame,
    SpeechStartedFrame,
    SpeechStoppedFrame,
    TranscriptFrame,
)
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.modes import ModeState

Talk = Callable[..., Awaitable[tuple[Conversation, Recorder]]]
TEXT_ONLY = {"voice_input": False, "text_input": True, "voice_output": False, "text_output": True}


async def test_a_typed_question_in_text_mode_gets_a_streamed_answer_and_no_audio(talk: Talk) -> None:
    conversation, heard = await talk(mode=ModeState(**TEXT_ONLY))

    await conversation.push_text("What is the capital of France?")
    await heard.wait_for(lambda: bool(heard.of(ResponseFrame)))

    [response] = heard.of(ResponseFrame)
    assert "paris" in response.text.lower()  # type: ignore[attr-defined]
    assert len(heard.of(ResponseDeltaFrame)) > 1
    assert heard.of(AudioOutFrame) == []
    assert heard.commits[0].user_text == "What is the capital of France?"


@pytest.mark.slow
async def test_a_spoken_question_is_heard_answered_and_spoken_in_order(talk: Talk) -> None:
    conversation, heard = await talk()
    question = padded(espeak_speech("What is the capital of France?"), before_ms=400, after_ms=800)

    await speak_in_real_time(conversation, question)
    await heard.wait_for(lambda: bool(heard.of(ResponseFrame)))

    transcripts = heard.of(TranscriptFrame)
    # Partials come only as fast as the machine decodes (none on a saturated one), always before the final.
    assert [t.is_final for t in transcripts] == [False] * (len(transcripts) - 1) + [True]  # type: ignore[attr-defined]
    assert transcripts[-1].is_final  # type: ignore[attr-defined]
    assert "capital of france" in transcripts[-1].text.lower()  # type: ignore[attr-defined]
    order = [
        heard.index(kind)
        for kind in (
            SpeechStartedFrame,
            SpeechStoppedFrame,
            ResponseDeltaFrame,
            AudioStartFrame,
            AudioOutFrame,
            AudioOutEndFrame,
            ResponseFrame,
        )
    ]
    assert order == sorted(order)


@pytest.mark.slow
async def test_speaking_over_the_answer_stops_its_audio_and_history_keeps_what_was_heard(talk: Talk) -> None:
    conversation, heard = await talk()
    await conversation.push_text("Tell me a long story about a dragon and a knight.")
    await heard.wait_for(lambda: len(heard.of(AudioOutFrame)) >= 10)

    await speak_in_real_time(conversation, padded(espeak_speech("Stop please."), before_ms=0, after_ms=900))
    await heard.wait_for(lambda: bool(heard.of(InterruptFrame)))

    interrupted_turn = heard.of(InterruptFrame)[0].turn_id  # type: ignore[attr-defined]
    after = heard.frames[heard.index(InterruptFrame) :]
    assert not [f for f in after if isinstance(f, AudioOutFrame) and f.turn_id == interrupted_turn]
    [first] = [turn for turn in heard.commits if turn.turn_id == interrupted_turn]
    assert first.interrupted
    assert 0 < len(first.assistant_text.split()) < 60  # only the words whose audio went out


async def test_typing_while_the_assistant_speaks_interrupts_and_answers_the_new_question(talk: Talk) -> None:
    conversation, heard = await talk()
    await conversation.push_text("Tell me a long story about a dragon.")
    await heard.wait_for(lambda: len(heard.of(AudioOutFrame)) >= 5)

    await conversation.push_text("What is the capital of France?")
    await heard.wait_for(lambda: len(heard.of(ResponseFrame)) == 1)

    [interrupt] = heard.of(InterruptFrame)
    [response] = heard.of(ResponseFrame)
    assert response.turn_id != interrupt.turn_id  # type: ignore[attr-defined]
    assert "paris" in response.text.lower()  # type: ignore[attr-defined]
    assert [turn.interrupted for turn in heard.commits] == [True, False]


async def test_turning_voice_output_on_mid_conversation_makes_the_next_answer_speak(talk: Talk) -> None:
    conversation, heard = await talk(mode=ModeState(**TEXT_ONLY))
    await conversation.push_text("Say hello.")
    await heard.wait_for(lambda: len(heard.of(ResponseFrame)) == 1)
    assert heard.of(AudioOutFrame) == []

    await conversation.change_mode({"voice_output": True})
    await conversation.push_text("Say goodbye.")
    await heard.wait_for(lambda: len(heard.of(ResponseFrame)) == 2)

    assert heard.of(ModeChangedFrame)[0].mode["voice_output"] is True  # type: ignore[attr-defined]
    assert heard.of(AudioOutFrame)


async def test_audio_is_refused_while_voice_input_is_off(talk: Talk) -> None:
    conversation, _ = await talk(mode=ModeState(**TEXT_ONLY))
    with pytest.raises(InputError, match="voice input is off"):
        await conversation.push_audio(bytes(640))


async def test_when_speech_synthesis_fails_the_text_still_arrives_with_an_error(talk: Talk) -> None:
    # A real engine with a real failure: OpenAI-compatible TTS pointed at a port nobody listens on.
    broken_tts = OpenAiTts(base_url="http://127.0.0.1:9/v1", api_key=None, model="tts-1", voice="alloy")
    conversation, heard = await talk(tts=broken_tts)

    await conversation.push_text("What is the capital of France?")
    await heard.wait_for(lambda: bool(heard.of(ResponseFrame)))

    assert heard.of(ErrorFrame)[0].error == "engine_error"  # type: ignore[attr-defined]
    assert "paris" in heard.of(ResponseFrame)[0].text.lower()  # type: ignore[attr-defined]
    assert heard.of(ResponseDeltaFrame)


class CountingLlm:
    """The real LLM, wrapped to count how many answers were started."""

    def __init__(self, llm: Any) -> None:
        self.llm, self.capabilities, self.name, self.questions = llm, llm.capabilities, llm.name, []

    def chat(self, messages: Any, **options: Any) -> Any:
        self.questions.append(messages[-1].content)
        return self.llm.chat(messages, **options)


@pytest.mark.slow
async def test_an_answer_started_during_a_pause_is_dropped_without_a_trace_when_the_user_goes_on(
    talk: Talk, engines: Any
) -> None:
    llm = CountingLlm(engines.llm)
    conversation, heard = await talk(listening=ListeningOptions(stop_secs=1.5), llm=llm)
    first_half = padded(espeak_speech("Please turn on the lights"), before_ms=300, after_ms=700)
    second_half = padded(espeak_speech("in the kitchen."), before_ms=0, after_ms=1800)

    await speak_in_real_time(conversation, first_half + second_half)
    await heard.wait_for(lambda: bool(heard.of(ResponseFrame)))

    # Whether the answer started during the pause depends on how fast the machine decodes; the exact
    # timeline is tests/pipeline/test_turns.py's. Either way the guess leaves no trace.
    assert heard.of(InterruptFrame) == []
    assert [turn.user_text for turn in heard.commits] == [llm.questions[-1]]
    assert "kitchen" in llm.questions[-1].lower()
