"""`describe` → `info`: what Home Assistant shows when voxhub is added."""

from __future__ import annotations

from wyoming.info import Describe, Info

from tests.protocols.wyoming.conftest import Voxhub, read_until


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
