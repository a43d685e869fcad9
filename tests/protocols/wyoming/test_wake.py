"""wake: `detect` + audio → `detection` when the word is said, `not-detected` when it is not."""

from __future__ import annotations

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.wake import Detect, Detection

from tests.protocols.wyoming.conftest import Voxhub, read_until
from tests.speech import padded, piper_speech
from voxhub.audio import PcmAudio


async def detect(voxhub: Voxhub, audio: PcmAudio, names: list[str]) -> list[str]:
    """Stream `audio` after `detect`, then `audio-stop`; returns the types of the replies."""
    step = 1024 * 2
    async with voxhub.client() as client:
        await client.write_event(Detect(names=names).event())
        await client.write_event(AudioStart(audio.sample_rate_hz, 2, 1).event())
        for offset in range(0, len(audio.pcm_s16le), step):
            chunk = AudioChunk(audio.sample_rate_hz, 2, 1, audio.pcm_s16le[offset : offset + step])
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        events = await read_until(client, "not-detected", "detection")
    return [Detection.from_event(e).name or "" if e.type == "detection" else e.type for e in events]


async def test_the_wake_word_said_gives_a_detection(voxhub: Voxhub) -> None:
    speech = padded(piper_speech("Hey Jarvis."), before_ms=500, after_ms=1000)

    assert await detect(voxhub, speech, ["hey_jarvis"]) == ["hey_jarvis"]


async def test_silence_gives_not_detected_at_audio_stop(voxhub: Voxhub) -> None:
    assert await detect(voxhub, PcmAudio.silence(2000, 16000), ["hey_jarvis"]) == ["not-detected"]
