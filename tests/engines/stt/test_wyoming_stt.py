"""The `wyoming` STT engine against a scripted Wyoming double (and voxhub's own server in another process)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from wyoming.asr import Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk
from wyoming.error import Error
from wyoming.event import Event

from tests.api.live import live_server
from tests.api.sockets import connect
from tests.doubles.wyoming_server import WyomingDouble, free_port, wyoming_double
from tests.speech import espeak_speech
from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool
from voxhub.engines.stt.wyoming import WyomingStt
from voxhub.engines.wyoming_remote import RemoteAddress, RemoteClient
from voxhub.errors import EngineError

SPEECH = PcmAudio(bytes(range(256)) * 100, 16000)  # 0.8 s of "audio": the double only counts it


def engine_for(port: int, timeout_secs: float = 10.0) -> WyomingStt:
    return WyomingStt(RemoteClient(RemoteAddress("127.0.0.1", port, "STT"), timeout_secs))


def answers_at_stop(*answers: Event) -> object:
    def script(event: Event, double: WyomingDouble) -> list[Event] | None:
        return list(answers) if event.type == "audio-stop" else []

    return script


async def test_an_utterance_is_sent_as_audio_chunks_and_the_servers_transcript_comes_back() -> None:
    async with wyoming_double(answers_at_stop(Transcript(text=" turn on the light ").event())) as double:
        transcript = await engine_for(double.port).transcribe(SPEECH, language="en")

    assert transcript.text == "turn on the light"
    assert transcript.is_final
    assert double.types()[:2] == ["transcribe", "audio-start"]
    assert double.types()[-1] == "audio-stop"
    sent = b"".join(AudioChunk.from_event(e).audio for e in double.received if e.type == "audio-chunk")
    assert sent == SPEECH.pcm_s16le
    assert double.received[0].data.get("language") == "en"


async def test_streamed_transcript_chunks_come_out_as_growing_partials_then_the_final() -> None:
    script = answers_at_stop(
        TranscriptStart(language="en").event(),
        TranscriptChunk(text="turn on").event(),
        TranscriptChunk(text=" the light").event(),
        Transcript(text="Turn on the light.").event(),
        TranscriptStop().event(),
    )
    async with wyoming_double(script) as double:

        async def chunks():  # type: ignore[no-untyped-def]
            yield SPEECH

        heard = [(t.text, t.is_final) async for t in engine_for(double.port).stream(chunks())]

    assert heard == [("turn on", False), ("turn on the light", False), ("Turn on the light.", True)]
    assert double.received[0].data.get("context") == {"streaming": True}


async def test_a_server_that_is_down_is_an_engine_error_naming_it() -> None:
    port = free_port()  # nothing listens there

    with pytest.raises(EngineError, match=rf"remote STT engine at tcp://127.0.0.1:{port}: cannot connect"):
        await engine_for(port).transcribe(SPEECH)


async def test_a_server_answering_error_is_an_engine_error_with_its_text() -> None:
    async with wyoming_double(answers_at_stop(Error(text="model not loaded", code="busy").event())) as double:
        with pytest.raises(EngineError, match="busy: model not loaded"):
            await engine_for(double.port).transcribe(SPEECH)


async def test_a_server_that_goes_quiet_is_an_engine_error_after_the_timeout() -> None:
    async with wyoming_double(lambda event, double: []) as double:
        with pytest.raises(EngineError, match=r"no answer within 0\.2 s"):
            await engine_for(double.port, timeout_secs=0.2).transcribe(SPEECH)


@pytest.mark.slow
async def test_voxhub_serving_its_engines_in_another_process_transcribes_speech(engines_server: int) -> None:
    engine = engine_for(engines_server, timeout_secs=60)
    await engine.warm_up()

    transcript = await engine.transcribe(espeak_speech("Turn on the kitchen light."), language="en")

    assert "kitchen light" in transcript.text.lower()
    assert "voxhub" in engine.capabilities.model


@pytest.mark.slow
async def test_voxhub_serving_its_engines_streams_partials_before_the_final(engines_server: int) -> None:
    speech = espeak_speech("Set a timer for ten minutes and then remind me to call my sister about dinner.")
    step = speech.sample_rate_hz // 10 * 2  # 100 ms a chunk, sent as a microphone would

    async def microphone() -> AsyncIterator[PcmAudio]:
        for offset in range(0, len(speech.pcm_s16le), step):
            yield PcmAudio(speech.pcm_s16le[offset : offset + step], speech.sample_rate_hz)
            await asyncio.sleep(0.1)

    heard = [t async for t in engine_for(engines_server, timeout_secs=60).stream(microphone(), language="en")]

    assert [t.is_final for t in heard] == [False] * (len(heard) - 1) + [True]
    assert len(heard) >= 2  # partials came while the audio was still arriving
    assert "sister" in heard[-1].text.lower()


@pytest.mark.slow
async def test_a_conversation_is_refused_by_an_engines_only_server_with_an_error(engines_server: int) -> None:
    client = RemoteClient(RemoteAddress("127.0.0.1", engines_server, "STT"), 30)
    info = await client.describe()
    async with client.connected() as connection:
        await connection.write(Transcript(text="What time is it?").event())
        with pytest.raises(EngineError, match="not_served: this voxhub serves speech engines only"):
            await connection.read()

    assert [bool(info.asr), bool(info.tts), bool(info.wake), bool(info.handle)] == [True, True, True, False]


@pytest.mark.slow
async def test_a_session_whose_remote_stt_is_down_gets_an_error_event_and_goes_on(
    settings: Settings, engine_pool: EnginePool
) -> None:
    port = free_port()  # the remote STT box is down
    settings = settings.model_copy(
        update={"stt_engine": "wyoming", "stt_wyoming_host": f"tcp://127.0.0.1:{port}"}
    )
    shared = Engines(**{stage: await engine_pool.get(stage) for stage in ("vad", "tts", "wake", "llm")})
    async with (
        live_server(settings, EnginePool(settings, shared)) as url,
        connect(url, "voice_output=false") as client,
    ):
        await client.speak(espeak_speech("Turn on the kitchen light.").pcm_s16le + bytes(32000))  # 1 s pause
        error = await client.until("error")
        await client.send("text_message", text="Hello?")
        await client.until("response")  # the session is still there, and answers typed text

    assert error["data"]["code"] == "engine_error"
    assert (
        error["data"]["error"]
        == f"the remote STT engine at tcp://127.0.0.1:{port}: cannot connect (connection refused)"
    )
