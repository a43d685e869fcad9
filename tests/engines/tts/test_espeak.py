"""espeak-ng speaks every language it knows, in process, with each word and phoneme placed in the audio."""

from __future__ import annotations

import pytest

from voxhub.config import Settings
from voxhub.engines.tts.base import synthesize_all
from voxhub.engines.tts.espeak import EspeakTts
from voxhub.errors import ConfigError, EmptyTextError, InputError, ModelError

TWO_SENTENCES = "Good morning. The coffee is ready."


async def test_each_sentence_streams_as_its_own_22_khz_chunk(espeak_tts: EspeakTts) -> None:
    chunks = [chunk async for chunk in espeak_tts.synthesize(TWO_SENTENCES)]

    assert len(chunks) == 2
    assert all(chunk.sample_rate_hz == 22050 and chunk.duration_ms > 300 for chunk in chunks)


async def test_faster_speed_gives_shorter_speech(espeak_tts: EspeakTts) -> None:
    normal = await synthesize_all(espeak_tts, TWO_SENTENCES)
    fast = await synthesize_all(espeak_tts, TWO_SENTENCES, speed=1.5)

    assert fast.duration_ms < 0.8 * normal.duration_ms


async def test_each_word_is_marked_where_it_is_spoken(espeak_tts: EspeakTts) -> None:
    text = "Please open the garage door."
    [sentence] = [sentence async for sentence in espeak_tts.synthesize_marked(text)]

    words = [mark for mark in sentence.marks if mark.kind == "word"]
    assert [text[mark.text_start : mark.text_start + mark.text_length] for mark in words] == text[:-1].split()
    assert [mark.audio_ms for mark in words] == sorted(mark.audio_ms for mark in words)
    assert words[-1].audio_ms < sentence.audio.duration_ms
    assert any(mark.kind == "phoneme" and mark.phoneme == "ɡ" for mark in sentence.marks)


async def test_a_language_picks_its_voice(espeak_tts: EspeakTts) -> None:
    assert espeak_tts.voice_for_language("pl") == "pl"
    assert espeak_tts.voice_for_language("en-US") == "en-us"
    assert espeak_tts.voice_for_language("de-AT") == "de"
    assert "pl" in espeak_tts.capabilities.languages


@pytest.mark.parametrize("text", ["", "   \n\t"])
async def test_blank_text_is_refused(espeak_tts: EspeakTts, text: str) -> None:
    with pytest.raises(EmptyTextError):
        await synthesize_all(espeak_tts, text)


async def test_unknown_voice_is_refused_listing_the_voices(espeak_tts: EspeakTts) -> None:
    with pytest.raises(InputError, match=r"no voice 'marvin'; available: .*\ben-us\b.*\bpl\b"):
        await synthesize_all(espeak_tts, TWO_SENTENCES, voice="marvin")


async def test_unknown_language_is_refused(espeak_tts: EspeakTts) -> None:
    with pytest.raises(InputError, match="does not speak 'tlh'"):
        await synthesize_all(espeak_tts, TWO_SENTENCES, language="tlh")


def test_voice_setting_espeak_lacks_names_the_setting(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"tts_voice \(VOXHUB_TTS_VOICE\)"):
        EspeakTts.from_settings(settings.model_copy(update={"tts_voice": "marvin"}))


def test_missing_library_says_how_to_install_it(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stands in for a machine without espeak-ng by naming a library that does not exist."""
    monkeypatch.setattr(EspeakTts, "library_name", "libespeak-ng-absent.so.1")

    with pytest.raises(ModelError, match=r"apt-get install espeak-ng"):
        EspeakTts.from_settings(settings)
