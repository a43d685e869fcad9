"""How a session decides it is being spoken to: VAD, a wake word (with a follow-up window), or push-to-talk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.pipeline.conftest import Recorder, speak_in_real_time
from tests.speech import espeak_speech, padded, piper_speech
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import SpeechStartedFrame, TranscriptFrame, WakeWordFrame
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.modes import ModeState

Talk = Callable[..., Awaitable[tuple[Conversation, Recorder]]]
LISTEN_ONLY = ModeState(voice_input=True, text_input=True, voice_output=False, text_output=True)
WAKE_WORD = ListeningOptions(activation="wake_word", wake_words=("hey_jarvis",), follow_up_secs=30.0)


def finals(heard: Recorder) -> list[str]:
    return [f.text for f in heard.of(TranscriptFrame) if f.is_final]  # type: ignore[attr-defined]


@pytest.mark.slow
async def test_a_wake_word_session_ignores_speech_until_its_word_is_said(talk: Talk) -> None:
    conversation, heard = await talk(mode=LISTEN_ONLY, listening=WAKE_WORD)

    await speak_in_real_time(
        conversation, padded(piper_speech("What time is it?"), before_ms=300, after_ms=900)
    )
    assert heard.of(SpeechStartedFrame) == []

    wake_then_question = piper_speech("Hey Jarvis.") + padded(
        piper_speech("What is the capital of France?"), before_ms=100, after_ms=900
    )
    await speak_in_real_time(conversation, wake_then_question)
    await heard.wait_for(lambda: any(finals(heard)))

    assert heard.of(WakeWordFrame)[0].wake_word == "hey_jarvis"  # type: ignore[attr-defined]
    assert "capital of france" in finals(heard)[-1].lower()
    assert not finals(heard)[-1].lower().startswith("hey")


@pytest.mark.slow
async def test_after_an_utterance_a_wake_word_session_listens_without_the_word_for_a_while(
    talk: Talk,
) -> None:
    conversation, heard = await talk(mode=LISTEN_ONLY, listening=WAKE_WORD)
    await speak_in_real_time(conversation, padded(piper_speech("Hey Jarvis."), before_ms=200, after_ms=900))
    await heard.wait_for(lambda: len(heard.of(TranscriptFrame)) > 0)

    await speak_in_real_time(
        conversation, padded(espeak_speech("Turn on the light."), before_ms=0, after_ms=900)
    )
    await heard.wait_for(lambda: any("light" in text.lower() for text in finals(heard)))

    assert len(heard.of(WakeWordFrame)) == 1


async def test_push_to_talk_ends_the_utterance_when_the_client_says_so(talk: Talk) -> None:
    conversation, heard = await talk(mode=LISTEN_ONLY, listening=ListeningOptions(activation="push_to_talk"))
    question = espeak_speech(
        "What is the capital of France?"
    )  # no trailing silence: the VAD could not end it

    await conversation.push_audio(question.pcm_s16le)
    await conversation.end_audio()
    await heard.wait_for(lambda: any(finals(heard)))

    assert "capital of france" in finals(heard)[0].lower()


@pytest.mark.slow
async def test_a_profile_with_the_lowest_wake_sensitivity_is_not_woken_by_its_word(talk: Talk) -> None:
    strict = ListeningOptions(activation="wake_word", wake_words=("hey_jarvis",), wake_sensitivity=0.0)
    conversation, heard = await talk(mode=LISTEN_ONLY, listening=strict)

    await speak_in_real_time(conversation, padded(piper_speech("Hey Jarvis."), before_ms=300, after_ms=1200))

    assert heard.of(WakeWordFrame) == []
