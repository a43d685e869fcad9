"""The `wyoming` wake engine against a scripted Wyoming double."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from wyoming.audio import AudioChunk
from wyoming.event import Event
from wyoming.wake import Detection

from tests.doubles.wyoming_server import WyomingDouble, free_port, wyoming_double
from tests.speech import piper_speech as speak_like_piper
from voxhub.engines.wake.base import WakeDetection, WakeStream
from voxhub.engines.wake.wyoming import WyomingWake
from voxhub.engines.wyoming_remote import RemoteAddress, RemoteClient
from voxhub.errors import EngineError

FRAME = bytes(640)  # 20 ms of 16 kHz audio


def engine_for(port: int) -> WyomingWake:
    return WyomingWake(
        RemoteClient(RemoteAddress("127.0.0.1", port, "wake"), 10.0), wake_words=["hey_jarvis"]
    )


def fires_after(chunks: int) -> object:
    def script(event: Event, double: WyomingDouble) -> list[Event] | None:
        heard = sum(e.type == "audio-chunk" for e in double.received)
        if event.type == "audio-chunk" and heard == chunks:
            return [Detection(name="hey_jarvis", timestamp=1234).event()]
        return []

    return script


async def until_detected(stream: WakeStream) -> WakeDetection:
    """Feed frames, as a microphone would (paced), until the stream reports a detection (or raises)."""
    async with asyncio.timeout(10):
        for _ in itertools.count():
            detection = stream.process(FRAME)
            if detection is not None:
                return detection
            await asyncio.sleep(0.005)
    raise AssertionError("unreachable")


async def test_a_detection_from_the_server_comes_out_of_the_stream() -> None:
    async with wyoming_double(fires_after(10)) as double:
        stream = engine_for(double.port).create_stream()
        detection = await until_detected(stream)
        stream.reset()

    assert (detection.wake_word, detection.timestamp_ms) == ("hey_jarvis", 1234.0)
    assert double.types()[:2] == ["detect", "audio-start"]
    assert double.received[0].data["names"] == ["hey_jarvis"]
    assert all(AudioChunk.from_event(e).audio == FRAME for e in double.received if e.type == "audio-chunk")


async def test_a_server_that_is_down_is_one_engine_error_then_quiet_until_the_retry() -> None:
    stream = engine_for(free_port()).create_stream()

    with pytest.raises(EngineError, match=r"remote wake engine at tcp://127\.0\.0\.1:[0-9]+: cannot connect"):
        await until_detected(stream)
    assert [stream.process(FRAME) for _ in range(3)] == [None, None, None]  # no error per frame


@pytest.mark.slow
async def test_voxhub_serving_its_engines_hears_its_wake_word_said(engines_server: int) -> None:
    speech = speak_like_piper("Hey Jarvis.").pcm_s16le + bytes(32000)  # then 1 s of quiet
    engine = engine_for(engines_server)
    await engine.warm_up()
    stream = engine.create_stream(["hey_jarvis"])
    frames = iter([speech[i : i + len(FRAME)] for i in range(0, len(speech), len(FRAME))])

    async with asyncio.timeout(30):
        for frame in itertools.chain(frames, itertools.repeat(FRAME)):  # quiet after the words
            if (detection := stream.process(frame)) is not None:
                break
            await asyncio.sleep(0.02)  # as a microphone sends them
    stream.reset()

    assert detection.wake_word == "hey_jarvis"
    assert "hey_jarvis" in engine.capabilities.wake_words
