"""Partial transcripts while the user speaks, decoded through the shared STT scheduler, or none if off."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.pipeline.conftest import Recorder, speak_in_real_time
from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import TranscriptFrame
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.modes import ModeState

Talk = Callable[..., Awaitable[tuple[Conversation, Recorder]]]
LISTEN_ONLY = ModeState(voice_input=True, text_input=True, voice_output=False, text_output=True)
SENTENCE = "Please turn on the kitchen light and close the blinds in the living room."


def transcripts(heard: Recorder, *, final: bool) -> list[str]:
    return [f.text for f in heard.of(TranscriptFrame) if f.is_final is final]  # type: ignore[attr-defined]


async def test_a_session_hears_partial_transcripts_before_the_final(talk: Talk) -> None:
    conversation, heard = await talk(mode=LISTEN_ONLY, listening=ListeningOptions())

    await speak_in_real_time(conversation, padded(espeak_speech(SENTENCE), before_ms=300, after_ms=900))
    await heard.wait_for(lambda: any(transcripts(heard, final=True)))

    assert transcripts(heard, final=False)
    assert word_error_rate(SENTENCE, transcripts(heard, final=True)[-1]) <= 0.25


async def test_a_session_with_partials_off_hears_only_the_final(talk: Talk) -> None:
    conversation, heard = await talk(mode=LISTEN_ONLY, listening=ListeningOptions(partials=False))

    await speak_in_real_time(conversation, padded(espeak_speech(SENTENCE), before_ms=300, after_ms=900))
    await heard.wait_for(lambda: any(transcripts(heard, final=True)))

    assert transcripts(heard, final=False) == []
    assert word_error_rate(SENTENCE, transcripts(heard, final=True)[-1]) <= 0.25
