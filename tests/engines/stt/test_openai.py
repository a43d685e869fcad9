"""The `openai` STT engine, driven through the real SDK against the OpenAI-compatible test double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.openai_server import OpenAiDouble, running_double
from tests.speech import espeak_speech
from voxhub.audio import PcmAudio, decode_wav
from voxhub.config import Settings
from voxhub.engines.stt.openai import OpenAiStt
from voxhub.errors import AudioError, ConfigError, EngineError


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double()


@pytest.fixture
async def stt(settings: Settings, double: OpenAiDouble) -> AsyncIterator[OpenAiStt]:
    engine = OpenAiStt.from_settings(settings.model_copy(update={"openai_base_url": double.base_url}))
    yield engine
    await engine.aclose()


@pytest.fixture(scope="module")
def speech() -> PcmAudio:
    return espeak_speech("hello from the test", sample_rate_hz=22050)


async def test_transcript_comes_back_with_timed_segments(stt: OpenAiStt, speech: PcmAudio) -> None:
    transcript = await stt.transcribe(speech)

    assert transcript.text == "hello from the test double"
    assert [segment.text for segment in transcript.segments] == ["hello from", "the test double"]
    assert transcript.segments[1].end_ms == 1000.0
    assert transcript.duration_ms == speech.duration_ms


async def test_audio_arrives_as_a_16_khz_wav_of_the_same_length(
    stt: OpenAiStt, double: OpenAiDouble, speech: PcmAudio
) -> None:
    await stt.transcribe(speech)

    [upload] = double.state.transcriptions
    received = decode_wav(upload.file_bytes)
    assert received.sample_rate_hz == 16000
    assert abs(received.duration_ms - speech.duration_ms) < 1.0
    assert upload.fields["model"] == "whisper-1"


async def test_language_and_prompt_are_passed_through(
    stt: OpenAiStt, double: OpenAiDouble, speech: PcmAudio
) -> None:
    transcript = await stt.transcribe(speech, language="pl", prompt="Kraków, Wisła")

    assert double.state.transcriptions[0].fields["language"] == "pl"
    assert double.state.transcriptions[0].fields["prompt"] == "Kraków, Wisła"
    assert transcript.language == "pl"


async def test_server_without_verbose_json_still_gives_the_text(
    stt: OpenAiStt, double: OpenAiDouble, speech: PcmAudio
) -> None:
    double.state.verbose_json = False

    first = await stt.transcribe(speech)
    second = await stt.transcribe(speech)

    assert first.text == second.text == "hello from the test double"
    assert first.segments == ()
    formats = [upload.fields["response_format"] for upload in double.state.transcriptions]
    assert formats == ["verbose_json", "json", "json"]  # asked once, then remembered


async def test_empty_audio_is_refused_before_sending(stt: OpenAiStt, double: OpenAiDouble) -> None:
    with pytest.raises(AudioError):
        await stt.transcribe(PcmAudio(b"", 16000))

    assert double.state.transcriptions == []


async def test_server_error_is_an_engine_error(
    stt: OpenAiStt, double: OpenAiDouble, speech: PcmAudio
) -> None:
    double.state.fail_status = 500

    with pytest.raises(EngineError, match=r"transcription service .* HTTP 500"):
        await stt.transcribe(speech)


async def test_missing_base_url_names_the_setting(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"VOXHUB_OPENAI_BASE_URL"):
        OpenAiStt.from_settings(settings)
