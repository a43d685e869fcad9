"""Piper speaks with the voice `tts_piper_model` names, at that voice's rate, one chunk per sentence."""

from __future__ import annotations

import pytest

from voxhub.config import Settings
from voxhub.engines.tts.base import synthesize_all
from voxhub.engines.tts.piper import PiperTts
from voxhub.errors import ConfigError, EmptyTextError, InputError

TWO_SENTENCES = "Good morning. The coffee is ready."


async def test_each_sentence_streams_at_the_rate_of_the_voice(piper_tts: PiperTts) -> None:
    chunks = [chunk async for chunk in piper_tts.synthesize(TWO_SENTENCES)]

    # the joe voice's .onnx.json says 22050 Hz
    assert piper_tts.capabilities.sample_rate_hz == 22050
    assert len(chunks) == 2
    assert all(chunk.sample_rate_hz == 22050 and chunk.duration_ms > 300 for chunk in chunks)


async def test_faster_speed_gives_shorter_speech(piper_tts: PiperTts) -> None:
    normal = await synthesize_all(piper_tts, TWO_SENTENCES)
    fast = await synthesize_all(piper_tts, TWO_SENTENCES, speed=1.5)

    assert fast.duration_ms < 0.8 * normal.duration_ms


@pytest.mark.parametrize("text", ["", "   \n\t"])
async def test_blank_text_is_refused(piper_tts: PiperTts, text: str) -> None:
    with pytest.raises(EmptyTextError):
        await synthesize_all(piper_tts, text)


async def test_unknown_voice_is_refused_listing_the_voice_there_is(piper_tts: PiperTts) -> None:
    with pytest.raises(InputError, match=r"available: en_US-joe-medium"):
        await synthesize_all(piper_tts, TWO_SENTENCES, voice="amy")


def test_without_a_voice_file_the_setting_is_named(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"tts_piper_model \(VOXHUB_TTS_PIPER_MODEL\) is not set"):
        PiperTts.from_settings(settings)
