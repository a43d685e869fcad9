"""`describe` → `info`: what Home Assistant shows when voxhub is added."""

from __future__ import annotations

from wyoming.info import Describe, Info

from tests.protocols.wyoming.conftest import Voxhub, read_until
from voxhub.protocols.wyoming.info import voice_languages


async def test_info_advertises_asr_tts_wake_and_handle_with_their_models(voxhub: Voxhub) -> None:
    async with voxhub.client() as client:
        await client.write_event(Describe().event())
        info = Info.from_event((await read_until(client, "info"))[-1])

    assert info.asr[0].supports_transcript_streaming
    assert "en" in info.asr[0].models[0].languages
    assert info.tts[0].supports_synthesize_streaming
    assert info.tts[0].voices, "the TTS engine's voices are listed"
    assert {"okay_nabu", "hey_jarvis"} <= {model.name for model in info.wake[0].models}
    assert info.handle[0].models[0].name


async def test_a_multilingual_speech_model_advertises_every_language_it_knows(voxhub: Voxhub) -> None:
    # The default install has Whisper base, so a Polish Home Assistant pipeline can pick voxhub's STT.
    async with voxhub.client() as client:
        await client.write_event(Describe().event())
        info = Info.from_event((await read_until(client, "info"))[-1])

    heard = info.asr[0].models[0].languages
    assert {"en", "pl", "de", "fr"} <= set(heard)
    assert "auto" not in heard
    assert set(info.handle[0].models[0].languages) == set(heard), "it answers in the language it hears"


def test_each_espeak_voice_speaks_its_own_language() -> None:
    languages = ["en", "en-us", "pl"]

    assert voice_languages("pl", languages) == ["pl"]
    assert voice_languages("en-us", languages) == ["en-us"]


def test_every_voice_of_a_one_language_engine_speaks_that_language() -> None:
    assert voice_languages("heart", ["en"]) == ["en"]
