"""The `openai` TTS engine, driven through the real SDK against the OpenAI-compatible test double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.doubles.openai_server import OpenAiDouble, running_double, speech_tone
from voxhub.config import Settings
from voxhub.engines.tts.base import synthesize_all
from voxhub.engines.tts.openai import OpenAiTts
from voxhub.errors import ConfigError, EmptyTextError, EngineError

TEXT = "Hello there, this is a test of streamed speech."


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double()


@pytest.fixture
async def tts(settings: Settings, double: OpenAiDouble) -> AsyncIterator[OpenAiTts]:
    engine = OpenAiTts.from_settings(settings.model_copy(update={"openai_base_url": double.base_url}))
    yield engine
    await engine.aclose()


async def test_speech_streams_as_whole_24_khz_samples(tts: OpenAiTts) -> None:
    chunks = [chunk async for chunk in tts.synthesize(TEXT)]

    assert len(chunks) > 1
    assert all(chunk.sample_rate_hz == 24000 and len(chunk.pcm_s16le) % 2 == 0 for chunk in chunks)
    assert b"".join(chunk.pcm_s16le for chunk in chunks) == speech_tone(0.02 * len(TEXT))


async def test_default_voice_and_speed_come_from_settings(tts: OpenAiTts, double: OpenAiDouble) -> None:
    await synthesize_all(tts, TEXT)

    [request] = double.state.speech_requests
    assert (request["voice"], request["speed"], request["model"]) == ("alloy", 1.0, "tts-1")
    assert request["response_format"] == "pcm"


async def test_voice_and_speed_can_be_chosen_per_request(tts: OpenAiTts, double: OpenAiDouble) -> None:
    audio = await synthesize_all(tts, TEXT, voice="nova", speed=2.0)

    assert (double.state.speech_requests[0]["voice"], double.state.speech_requests[0]["speed"]) == (
        "nova",
        2.0,
    )
    assert audio.pcm_s16le == speech_tone(0.02 * len(TEXT) / 2.0)


async def test_blank_text_is_refused_before_sending(tts: OpenAiTts, double: OpenAiDouble) -> None:
    with pytest.raises(EmptyTextError):
        await synthesize_all(tts, "  \n ")

    assert double.state.speech_requests == []


async def test_server_error_is_an_engine_error(tts: OpenAiTts, double: OpenAiDouble) -> None:
    double.state.fail_status = 500

    with pytest.raises(EngineError, match=r"speech service .* HTTP 500"):
        await synthesize_all(tts, TEXT)


async def test_missing_base_url_names_the_setting(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"VOXHUB_OPENAI_BASE_URL"):
        OpenAiTts.from_settings(settings)
