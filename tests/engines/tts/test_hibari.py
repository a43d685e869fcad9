"""hibari speaks English offline with its bundled voice, streaming one chunk per sentence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from voxhub.config import Settings
from voxhub.engines.tts.base import synthesize_all
from voxhub.engines.tts.hibari import HibariTts
from voxhub.errors import ConfigError, EmptyTextError, InputError, ModelError

TWO_SENTENCES = "Good morning. The coffee is ready."


async def test_each_sentence_streams_as_its_own_24_khz_chunk(hibari_tts: HibariTts) -> None:
    chunks = [chunk async for chunk in hibari_tts.synthesize(TWO_SENTENCES)]

    assert len(chunks) == 2
    assert all(chunk.sample_rate_hz == 24000 and chunk.duration_ms > 300 for chunk in chunks)


async def test_faster_speed_gives_shorter_speech(hibari_tts: HibariTts) -> None:
    normal = await synthesize_all(hibari_tts, TWO_SENTENCES)
    fast = await synthesize_all(hibari_tts, TWO_SENTENCES, speed=1.5)

    assert fast.duration_ms < 0.8 * normal.duration_ms


@pytest.mark.parametrize("text", ["", "   \n\t"])
async def test_blank_text_is_refused(hibari_tts: HibariTts, text: str) -> None:
    with pytest.raises(EmptyTextError):
        await synthesize_all(hibari_tts, text)


async def test_voice_that_is_not_bundled_is_refused_listing_the_available_one(hibari_tts: HibariTts) -> None:
    with pytest.raises(InputError, match=r"'emma'.*available: heart"):
        await synthesize_all(hibari_tts, TWO_SENTENCES, voice="emma")


async def test_other_languages_are_refused(hibari_tts: HibariTts) -> None:
    with pytest.raises(InputError, match="English only"):
        await synthesize_all(hibari_tts, "Dzień dobry.", language="pl")


def test_voice_setting_that_is_not_bundled_names_the_setting(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"tts_voice \(VOXHUB_TTS_VOICE\).*available: heart"):
        HibariTts.from_settings(settings.model_copy(update={"tts_voice": "emma"}))


def test_altered_model_file_is_refused_naming_its_package(
    settings: Settings, tampered_package: Callable[[str, str], Path]
) -> None:
    tampered_package("hibari", "assets/hibari.onnx")

    with pytest.raises(ModelError, match=r"altered.*hibari-tts"):
        HibariTts.from_settings(settings)


async def test_a_long_run_without_punctuation_reaches_the_model_in_sentence_sized_pieces(
    hibari_tts: HibariTts, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[str] = []
    stream = hibari_tts._tts.stream
    monkeypatch.setattr(
        hibari_tts._tts, "stream", lambda text, speed: given.append(text) or stream(text, speed)
    )
    run_on = " ".join(["zero"] * 120)  # 599 characters, no sentence end (once: a 28 GB allocation)

    audio = await synthesize_all(hibari_tts, run_on)

    assert len(given) == 3
    assert all(len(piece) <= 240 for piece in given)
    assert " ".join(given) == run_on  # every word, in order
    assert audio.duration_ms > 20_000
