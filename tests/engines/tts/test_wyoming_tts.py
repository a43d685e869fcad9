"""The `wyoming` TTS engine against a scripted Wyoming double."""

from __future__ import annotations

import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Attribution, Info, TtsProgram, TtsVoice

from tests.doubles.wyoming_server import WyomingDouble, free_port, wyoming_double
from voxhub.engines.stt.whisper import WhisperStt
from voxhub.engines.tts.base import synthesize_all
from voxhub.engines.tts.wyoming import WyomingTts
from voxhub.engines.wyoming_remote import RemoteAddress, RemoteClient
from voxhub.errors import EmptyTextError, EngineError

RATE = 22050
SAMPLES = np.arange(-3000, 3000, 3, dtype="<i2")
WHO = Attribution(name="double", url="")


def engine_for(port: int) -> WyomingTts:
    return WyomingTts(RemoteClient(RemoteAddress("127.0.0.1", port, "TTS"), 10.0))


def speaks(pcm: bytes, *, channels: int = 1) -> object:
    """A server answering `synthesize` with `pcm` in two chunks, and `describe` with one voice."""

    def script(event: Event, double: WyomingDouble) -> list[Event] | None:
        if event.type == "describe":
            voice = TtsVoice(
                name="amy",
                description="amy",
                attribution=WHO,
                installed=True,
                languages=["en_US"],
                version=None,
            )
            program = TtsProgram(
                name="piper",
                description="piper",
                attribution=WHO,
                installed=True,
                voices=[voice],
                version=None,
            )
            return [Info(tts=[program]).event()]
        if event.type != "synthesize":
            return []
        half = len(pcm) // 2 // (2 * channels) * (2 * channels)
        return [
            AudioStart(rate=RATE, width=2, channels=channels).event(),
            AudioChunk(rate=RATE, width=2, channels=channels, audio=pcm[:half]).event(),
            AudioChunk(rate=RATE, width=2, channels=channels, audio=pcm[half:]).event(),
            AudioStop().event(),
        ]

    return script


async def test_the_servers_audio_comes_back_as_it_was_sent_at_its_rate() -> None:
    async with wyoming_double(speaks(SAMPLES.tobytes())) as double:
        engine = engine_for(double.port)
        chunks = [chunk async for chunk in engine.synthesize("Hello there.", voice="amy")]

    assert len(chunks) == 2  # streamed chunk by chunk
    assert b"".join(c.pcm_s16le for c in chunks) == SAMPLES.tobytes()
    assert {c.sample_rate_hz for c in chunks} == {RATE}
    synthesize = double.received[-1]
    assert (synthesize.data["text"], synthesize.data["voice"]["name"]) == ("Hello there.", "amy")


async def test_warm_up_learns_the_servers_voices_and_languages() -> None:
    async with wyoming_double(speaks(b"")) as double:
        engine = engine_for(double.port)
        await engine.warm_up()

    assert (engine.capabilities.voices, engine.capabilities.languages) == (("amy",), ("en_US",))


async def test_stereo_from_the_server_is_mixed_down_to_mono() -> None:
    stereo = np.repeat(SAMPLES, 2).tobytes()  # both channels the same
    async with wyoming_double(speaks(stereo, channels=2)) as double:
        audio = await synthesize_all(engine_for(double.port), "Hello.")

    assert audio.pcm_s16le == SAMPLES.tobytes()


async def test_a_server_that_is_down_is_an_engine_error_naming_it() -> None:
    port = free_port()

    with pytest.raises(EngineError, match=rf"remote TTS engine at tcp://127\.0\.0\.1:{port}: cannot connect"):
        await synthesize_all(engine_for(port), "Hello.")


async def test_blank_text_is_refused_before_anything_is_sent() -> None:
    async with wyoming_double(speaks(b"")) as double:
        with pytest.raises(EmptyTextError):
            await synthesize_all(engine_for(double.port), "   ")

    assert double.received == []


@pytest.mark.slow
async def test_voxhub_serving_its_engines_speaks_text_that_its_whisper_understands(
    engines_server: int, whisper_stt: WhisperStt
) -> None:
    engine = engine_for(engines_server)
    await engine.warm_up()

    audio = await synthesize_all(engine, "The kitchen light is on.")

    assert audio.duration_ms > 500
    assert "kitchen light" in (await whisper_stt.transcribe(audio, language="en")).text.lower()
