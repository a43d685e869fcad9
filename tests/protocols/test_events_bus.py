"""Realtime and Wyoming sessions on `WS /api/v1/events` and the webhooks, in voxhub's native events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import websockets
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop

from tests.api.live import free_port, live_server
from tests.api.test_webhooks import SECRET, Receiver
from tests.protocols.realtime_client import TEXT_ONLY, ask_in_text, realtime
from tests.protocols.wyoming.conftest import read_until, serve_wyoming
from tests.speech import espeak_speech, padded, words
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


async def test_a_wyoming_transcription_is_on_the_events_socket_under_the_clients_id(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    speech = padded(espeak_speech("What time is it?"), before_ms=300, after_ms=300)
    pcm = speech.pcm_s16le
    step = 16000 // 10 * 2  # 100 ms chunks, as a satellite's microphone sends them
    async with (
        serve_wyoming(tmp_path / "data", models_dir, engine_pool) as voxhub,
        events(voxhub.http_url, session_id="wyoming-127.0.0.1", type="transcript") as subscriber,
    ):
        async with voxhub.client() as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(16000, 2, 1).event())
            for offset in range(0, len(pcm), step):
                await client.write_event(AudioChunk(16000, 2, 1, pcm[offset : offset + step]).event())
            await client.write_event(AudioStop().event())
            replies = await read_until(client, "transcript")
        published = await subscriber.until("transcript", final=True)

    said = Transcript.from_event(replies[-1]).text
    assert words(said) == ["what", "time", "is", "it"]
    assert (published["session_id"], published["data"]["text"]) == ("wyoming-127.0.0.1", said)
    assert published["data"]["is_final"] is True
