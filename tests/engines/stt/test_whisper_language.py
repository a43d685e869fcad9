"""`auto` as the language: Whisper identifies it on the multilingual model and says which it heard."""

from __future__ import annotations

import pytest

from tests.speech import espeak_speech, word_error_rate
from voxhub.config import Settings
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.errors import ConfigError

LIGHTS = "Turn on the lights in the living room."
GREETING_PL = "Dzień dobry, jak się masz?"


async def test_english_speech_is_identified_as_english(whisper_stt: WhisperStt) -> None:
    transcript = await whisper_stt.transcribe(espeak_speech(LIGHTS), language="auto")

    assert transcript.language == "en"
    assert word_error_rate(LIGHTS, transcript.text) <= 0.2


async def test_polish_speech_is_identified_as_polish(whisper_stt: WhisperStt) -> None:
    speech = espeak_speech(GREETING_PL, voice="pl", words_per_minute=130)

    transcript = await whisper_stt.transcribe(speech, language="auto")

    assert transcript.language == "pl"
    assert "masz" in transcript.text.lower()


async def test_auto_as_the_setting_is_the_default_for_every_request(settings: Settings) -> None:
    engine = WhisperStt.from_settings(settings.model_copy(update={"stt_language": "auto"}))

    transcript = await engine.transcribe(espeak_speech(GREETING_PL, voice="pl", words_per_minute=130))

    assert transcript.language == "pl"
    await engine.aclose()


async def test_auto_languages_narrow_what_the_speech_may_be_in(settings: Settings) -> None:
    # Whisper base ranks this espeak-ng Polish as Spanish first; told it is English or Polish, it picks Polish.
    engine = WhisperStt.from_settings(
        settings.model_copy(update={"stt_language": "auto", "stt_auto_languages": ["en", "pl"]})
    )

    transcript = await engine.transcribe(espeak_speech("Włącz wentylator.", voice="pl", words_per_minute=130))

    assert transcript.language == "pl"
    await engine.aclose()


def test_auto_with_an_english_only_model_is_refused_at_start_up(settings: Settings) -> None:
    english_only = settings.model_copy(update={"stt_model": "tiny.en", "stt_language": "auto"})

    with pytest.raises(ConfigError, match=r"stt_language \(VOXHUB_STT_LANGUAGE\) is auto.*tiny\.en"):
        WhisperStt.from_settings(english_only)


async def test_a_request_for_auto_on_an_english_only_model_hears_english(settings: Settings) -> None:
    engine = WhisperStt.from_settings(settings.model_copy(update={"stt_model": "tiny.en"}))

    transcript = await engine.transcribe(espeak_speech(LIGHTS), language="auto")

    assert transcript.language == "en"
    assert word_error_rate(LIGHTS, transcript.text) <= 0.2
    await engine.aclose()
