"""Realtime and Wyoming sessions on `WS /api/v1/events` and the webhooks, in voxhub's native events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.wake import Detect

from tests.api.live import free_port, live_server
from tests.api.test_webhooks import SECRET, Receiver
from tests.protocols.realtime_client import TEXT_ONLY, ask_in_text, realtime
from tests.protocols.wyoming.conftest import Voxhub, read_until, serve_wyoming
from tests.speech import espeak_speech, padded, piper_speech, words
from voxhub.audio import PcmAudio
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool


class Events:
    """A `WS /api/v1/events` subscriber: what it received, in order."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection

    async def until(self, kind: str, *, final: bool = False) -> dict[str, Any]:
        """The next event of type `kind` (with `final`: a final transcript)."""
        async with asyncio.timeout(60):
            while True:
                body = json.loads(await self.connection.recv())
                if body["type"] == kind and (not final or body["data"].get("is_final")):
                    return body  # type: ignore[no-any-return]


@asynccontextmanager
async def events(base_url: str, **query: str) -> AsyncIterator[Events]:
    ws = base_url.replace("http", "ws", 1)
    params = "&".join(f"{key}={value}" for key, value in query.items())
    async with websockets.connect(f"{ws}/api/v1/events?{params}") as connection:
        hello = json.loads(await connection.recv())
        assert hello["type"] == "subscribed"
        yield Events(connection)


async def test_a_realtime_sessions_response_is_on_the_events_socket_under_its_session(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir)
    async with live_server(settings, engine_pool) as url, realtime(url.replace("http", "ws", 1)) as client:
        session_id = client.received[0]["session"]["id"]
        async with events(url, session_id=session_id, type="response") as subscriber:
            await client.send(TEXT_ONLY)
            await client.until("session.updated")
            done = await ask_in_text(client, "What is the capital of France?")
            published = await subscriber.until("response")

    answer = done["response"]["output"][0]["content"][0]["text"]
    assert (published["session_id"], published["data"]["text"]) == (session_id, answer)
    assert published["turn_id"]


async def test_a_realtime_sessions_spoken_final_transcript_is_on_the_events_socket(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    question = padded(
        espeak_speech("What is the capital of France?", sample_rate_hz=24000), before_ms=300, after_ms=1500
    )
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir)
    async with live_server(settings, engine_pool) as url, realtime(url.replace("http", "ws", 1)) as client:
        session_id = client.received[0]["session"]["id"]
        async with events(url, session_id=session_id, type="transcript") as subscriber:
            await client.send(TEXT_ONLY)
            await client.until("session.updated")
            await client.append_audio(question.pcm_s16le)
            heard = await client.until("conversation.item.input_audio_transcription.completed", 120)
            published = await subscriber.until("transcript", final=True)

    assert (published["session_id"], published["data"]["text"]) == (session_id, heard["transcript"])
    assert "france" in published["data"]["text"].lower()


async def test_a_webhook_receives_a_realtime_sessions_response(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    receiver = Receiver(free_port())
    hooks = [{"url": receiver.url, "events": ["response"], "secret": SECRET}]
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, webhooks=hooks)
    async with receiver.up(), live_server(settings, engine_pool) as url:
        async with realtime(url.replace("http", "ws", 1)) as client:
            session_id = client.received[0]["session"]["id"]
            await client.send(TEXT_ONLY)
            await client.until("session.updated")
            done = await ask_in_text(client, "Say hello.")
        await receiver.wait_for(lambda: len(receiver.requests) >= 1)

    [event] = receiver.events()
    answer = done["response"]["output"][0]["content"][0]["text"]
    assert (event["type"], event["session_id"], event["data"]["text"]) == ("response", session_id, answer)


@pytest.fixture(scope="module")
async def voxhub(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, engine_pool: EnginePool
) -> AsyncIterator[Voxhub]:
    async with serve_wyoming(tmp_path_factory.mktemp("data"), models_dir, engine_pool) as running:
        yield running


async def stream(client: AsyncTcpClient, audio: PcmAudio) -> None:
    """`audio` in 100 ms chunks, as a satellite's microphone sends it, then `audio-stop`."""
    rate, pcm = audio.sample_rate_hz, audio.pcm_s16le
    step = rate // 10 * 2
    await client.write_event(AudioStart(rate, 2, 1).event())
    for offset in range(0, len(pcm), step):
        await client.write_event(AudioChunk(rate, 2, 1, pcm[offset : offset + step]).event())
    await client.write_event(AudioStop().event())


SATELLITE = "wyoming-127.0.0.1"  # the tests' client address


async def test_a_wyoming_transcription_is_on_the_events_socket_under_the_clients_id(voxhub: Voxhub) -> None:
    speech = padded(espeak_speech("What time is it?"), before_ms=300, after_ms=300)
    async with events(voxhub.http_url, session_id=SATELLITE, type="transcript") as subscriber:
        async with voxhub.client() as client:
            await client.write_event(Transcribe(language="en").event())
            await stream(client, speech)
            replies = await read_until(client, "transcript")
        published = await subscriber.until("transcript", final=True)

    said = Transcript.from_event(replies[-1]).text
    assert words(said) == ["what", "time", "is", "it"]
    assert (published["session_id"], published["data"]["text"]) == (SATELLITE, said)
    assert published["data"]["is_final"] is True


async def test_a_streaming_wyoming_clients_partials_come_before_the_final_in_one_turn(voxhub: Voxhub) -> None:
    speech = padded(
        espeak_speech("Please turn on the kitchen light and close the blinds."), before_ms=300, after_ms=300
    )
    pcm, step = speech.pcm_s16le, 16000 // 10 * 2
    half = len(pcm) * 2 // 3 // step * step
    async with events(voxhub.http_url, session_id=SATELLITE, type="transcript") as subscriber:
        async with voxhub.client() as client:
            await client.write_event(Transcribe(language="en", context={"streaming": True}).event())
            await client.write_event(AudioStart(16000, 2, 1).event())
            for offset in range(0, half, step):
                await client.write_event(AudioChunk(16000, 2, 1, pcm[offset : offset + step]).event())
            await read_until(client, "transcript-chunk")  # a partial decode has been sent
            partial = await subscriber.until("transcript")
            for offset in range(half, len(pcm), step):
                await client.write_event(AudioChunk(16000, 2, 1, pcm[offset : offset + step]).event())
            await client.write_event(AudioStop().event())
            await read_until(client, "transcript-stop")
        final = await subscriber.until("transcript", final=True)

    assert partial["data"]["is_final"] is False
    assert partial["data"]["text"]
    assert partial["turn_id"] == final["turn_id"]


async def test_a_wyoming_wake_detection_is_a_wake_word_event(voxhub: Voxhub) -> None:
    speech = padded(piper_speech("Hey Jarvis."), before_ms=500, after_ms=1000)
    async with events(voxhub.http_url, session_id=SATELLITE, type="wake_word") as subscriber:
        async with voxhub.client() as client:
            await client.write_event(Detect(names=["hey_jarvis"]).event())
            await stream(client, speech)
            await read_until(client, "detection")
        published = await subscriber.until("wake_word")

    assert published["data"]["wake_word"] == "hey_jarvis"
    assert published["data"]["confidence"] > 0


async def test_a_wyoming_handle_turns_response_is_under_its_conversation_id(voxhub: Voxhub) -> None:
    async with events(voxhub.http_url, session_id="ha-conv-events", type="response") as subscriber:
        async with voxhub.client() as client:
            context = {"conversation_id": "ha-conv-events"}
            await client.write_event(Transcript(text="Hello!", context=context).event())
            reply = (await read_until(client, "handled", "not-handled"))[-1]
        published = await subscriber.until("response")

    assert published["data"]["text"] == Handled.from_event(reply).text


async def test_a_wyoming_error_is_an_error_event_under_the_clients_id(voxhub: Voxhub) -> None:
    async with events(voxhub.http_url, session_id=SATELLITE, type="error") as subscriber:
        async with voxhub.client() as client:
            await client.write_event(Event("no-such-event"))
            await read_until(client, "error")
        published = await subscriber.until("error")

    assert published["data"]["code"] == "invalid_frame"
    assert "no-such-event" in published["data"]["error"]
