"""The earlier servers' routes (seeds 001-004), each driven with the request shape its seed documents."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import wave
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.api.conftest import ServeFactory, serve  # noqa: F401  (the `serve` fixture)
from tests.api.live import live_server
from tests.speech import espeak_speech, padded
from voxhub.audio import encode_audio
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool

Start = Callable[..., AbstractAsyncContextManager[str]]
TEXT_ONLY = "voice_input=false&text_input=true&voice_output=false&text_output=true"
# Short answers keep the turns quick; Wyoming has its own tests and would want its one port.
QUICK: Any = {"llm_max_tokens": 24, "wyoming_enabled": False}


@pytest.fixture
def start(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> Start:
    def run(**overrides: Any) -> AbstractAsyncContextManager[str]:
        settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, **(QUICK | overrides))
        return live_server(settings, engine_pool)

    return run


@pytest.fixture
async def client(serve: ServeFactory) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with serve(**QUICK) as server:
        yield server.client


@pytest.fixture
async def base_url(start: Start) -> AsyncIterator[str]:
    async with start() as url:
        yield url


def ws(base_url: str, path: str) -> str:
    return base_url.replace("http", "ws", 1) + path


async def until(
    connection: websockets.ClientConnection, key: str, value: str, timeout_secs: float = 30.0
) -> list[dict[str, Any]]:
    """Every JSON message received up to and including the first whose `key` is `value`."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_secs):
        while not seen or seen[-1].get(key) != value:
            message = await connection.recv()
            if isinstance(message, str):
                seen.append(json.loads(message))
    return seen


def spoken_wav(text: str) -> str:
    speech = padded(espeak_speech(text), before_ms=200, after_ms=300)
    return base64.b64encode(encode_audio(speech, "wav")).decode()


# --- seed 001 -------------------------------------------------------------------------------------


async def test_seed_001_connect_reports_room_for_a_client(client: httpx.AsyncClient) -> None:
    reply = await client.post("/connect")

    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"
    assert reply.json()["server_info"]["max_connections"] == 25


async def test_seed_001_connect_is_refused_at_capacity(serve: ServeFactory) -> None:  # noqa: F811
    async with serve(**QUICK, max_connections=1) as server:
        assert server.state.connections.try_acquire()
        reply = await server.client.post("/connect")

    assert reply.status_code == 503
    assert reply.json()["status"] == "at_capacity"


async def test_seed_001_load_test_sees_as_many_200s_as_there_are_slots(serve: ServeFactory) -> None:  # noqa: F811
    async with serve(**QUICK, max_connections=3) as server:
        replies = await asyncio.gather(*(server.client.post("/connect") for _ in range(5)))
        health = (await server.client.get("/health")).json()

    assert sorted(reply.status_code for reply in replies) == [200, 200, 200, 503, 503]
    assert health["server_info"]["active_connections"] == 3


async def test_seed_001_a_reserved_slot_is_taken_by_its_websocket_only(start: Start) -> None:
    async with start(max_connections=1) as url, httpx.AsyncClient(base_url=url) as http:
        reserved = (await http.post("/connect")).json()
        async with websockets.connect(ws(url, f"/ws/flexible?{TEXT_ONLY}")) as stranger:
            with pytest.raises(websockets.ConnectionClosed) as refused:
                await stranger.recv()
        async with websockets.connect(ws(url, f"{reserved['websocket']}&{TEXT_ONLY}")) as client:
            started = (await until(client, "type", "session_started"))[-1]

    assert refused.value.rcvd is not None
    assert refused.value.rcvd.code == 1013
    assert started["session_id"]


async def test_seed_001_metrics_are_json_when_json_is_asked_for(client: httpx.AsyncClient) -> None:
    asked = await client.get("/metrics", headers={"Accept": "application/json"})
    scraped = await client.get("/metrics", headers={"Accept": "text/plain;version=0.0.4,*/*;q=0.1"})

    assert set(asked.json()["connections"]) >= {"total", "active", "peak", "rejected", "capacity_used"}
    assert asked.json()["performance"]["max_connections"] == 25
    assert scraped.headers["content-type"].startswith("text/plain")


async def test_seed_001_chat_text_answers_in_text(client: httpx.AsyncClient) -> None:
    reply = await client.post("/chat/text", json={"text": "What is the capital of France?"})

    assert reply.status_code == 200
    assert "paris" in reply.json()["response"].lower()


async def test_seed_001_flexible_socket_takes_mode_flags_text_and_mode_changes(base_url: str) -> None:
    async with websockets.connect(ws(base_url, f"/ws/flexible?{TEXT_ONLY}&agent_id=27")) as socket:
        started = (await until(socket, "type", "session_started"))[-1]
        await socket.send(json.dumps({"type": "text_message", "data": {"text": "Hello, can you help me?"}}))
        answer = (await until(socket, "type", "response"))[-1]
        flags = {"voice_input": True, "text_input": False, "voice_output": True, "text_output": False}
        await socket.send(json.dumps({"type": "mode_change", "data": flags}))
        changed = (await until(socket, "type", "mode_changed"))[-1]

    assert started["data"]["mode"]["voice_output"] is False
    assert answer["data"]["text"]
    assert changed["data"]["mode"]["voice_output"] is True
    assert changed["data"]["mode"]["text_input"] is False


async def test_seed_001_auth_socket_needs_the_token(start: Start) -> None:
    async with start(auth_token="s3cret") as url:
        async with websockets.connect(ws(url, f"/ws/auth?{TEXT_ONLY}")) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        async with websockets.connect(ws(url, f"/ws/auth?{TEXT_ONLY}&token=s3cret")) as socket:
            started = (await until(socket, "type", "session_started"))[-1]

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert started["session_id"]


# --- seed 003 -------------------------------------------------------------------------------------


async def test_seed_003_health_shows_the_pipeline_and_sessions(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/health")).json()

    assert body["status"] == "healthy"
    assert {"stt", "llm", "tts"} <= body["pipeline_status"].keys()
    assert body["active_sessions"] == 0


async def test_seed_003_pipeline_status_names_each_stage_engine(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/pipeline/status")).json()

    assert body["pipeline_status"]["stt"]["status"] == "ready"
    assert body["pipeline_status"]["stt"]["engine"] == "whisper"


async def test_seed_003_sessions_and_text_answers_carry_the_seeds_fields(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/sessions")).json()
    reply = (
        await client.post(f"/api/v1/sessions/{created['session_id']}/text", json={"text": "Hello!"})
    ).json()

    assert created["status"] == "created"
    assert created["message"]
    assert created["session_id"] == created["id"]
    assert reply["response"] == reply["text"] != ""
    assert reply["message"]
    assert reply["video_frames"] == []


async def test_seed_003_session_socket_speaks_its_message_types(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        session = (await http.post("/api/v1/sessions", json={"mode": {"voice_output": False}})).json()["id"]
    async with websockets.connect(ws(base_url, f"/api/v1/sessions/{session}/ws")) as socket:
        await until(socket, "type", "session_started")
        await socket.send(json.dumps({"type": "ping", "data": {"n": 1}}))
        pong = (await until(socket, "type", "pong"))[-1]
        await socket.send(json.dumps({"type": "config_update", "data": {"system_prompt": "Be brief."}}))
        updated = (await until(socket, "type", "config_updated"))[-1]
        await socket.send(json.dumps({"type": "text_message", "data": {"text": "Cześć! Jak się masz?"}}))
        answer = (await until(socket, "type", "response"))[-1]
        question = padded(espeak_speech("What is the capital of France?"), before_ms=200, after_ms=900)
        audio = base64.b64encode(question.pcm_s16le).decode()
        await socket.send(json.dumps({"type": "audio_chunk", "data": {"audio": audio}}))
        heard = (await until(socket, "type", "transcript", timeout_secs=60))[-1]

    assert pong["data"]["echo"] == {"n": 1}
    assert updated["data"]["config"]["system_prompt"] == "Be brief."
    assert answer["data"]["text"]
    assert "capital" in heard["data"]["text"].lower()


# --- seed 004 -------------------------------------------------------------------------------------


async def test_seed_004_start_and_stop_follow_its_conflict_rules(client: httpx.AsyncClient) -> None:
    started = await client.post("/api/v1/system/start", json={"profile": "vad-triggered"})
    again = await client.post("/api/v1/system/start", json={"profile": "vad-triggered"})
    stopped = await client.post("/api/v1/system/stop")
    stopped_again = await client.post("/api/v1/system/stop")

    assert (started.status_code, started.json()["profile"]) == (200, "vad-triggered")
    assert again.status_code == 409
    assert stopped.json()["status"] == "stopped"
    assert stopped_again.status_code == 409


async def test_seed_004_start_with_a_custom_config_listens_with_it(client: httpx.AsyncClient) -> None:
    custom = {"transcription": {"language": "no"}, "vad": {"sensitivity": 0.7}}

    started = await client.post(
        "/api/v1/system/start", json={"profile": "vad-triggered", "custom_config": custom}
    )
    status = (await client.get("/api/v1/transcription/status")).json()

    assert started.status_code == 200
    assert status["running"] is True
    assert status["profile"] == started.json()["profile"]


async def test_seed_004_system_status_answers_running(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/system/status")).json()

    assert body["status"] == "running"


async def test_seed_004_system_profiles_lists_and_saves_profiles(client: httpx.AsyncClient) -> None:
    custom = {
        "description": "High sensitivity for noisy environments",
        "vad": {"sensitivity": 0.8, "min_speech_duration": 0.5},
        "transcription": {"language": "en"},
    }
    saved = await client.post("/api/v1/system/profiles/noisy-env", json=custom)
    listed = (await client.get("/api/v1/system/profiles")).json()["profiles"]

    assert saved.status_code == 200
    assert {"vad-triggered", "wake-word", "noisy-env"} <= {profile["name"] for profile in listed}
    assert (await client.get("/api/v1/system/profiles/noisy-env")).status_code == 200


async def test_seed_004_transcribe_reads_base64_audio(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/transcription/configure", json={"language": "en"})

    reply = await client.post(
        "/api/v1/transcription/transcribe", json={"audio_data": spoken_wav("Turn on the kitchen light.")}
    )

    assert reply.status_code == 200
    assert "kitchen light" in reply.json()["text"].lower()
    assert reply.json()["is_final"] is True


async def test_seed_004_transcription_sessions_start_stop_and_show_in_status(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post("/api/v1/transcription/sessions")).json()
    status = (await client.get("/api/v1/transcription/status")).json()
    ended = await client.delete(f"/api/v1/transcription/sessions/{created['session_id']}")

    assert created["status"] == "started"
    assert status["engine"] == "whisper"
    assert ended.json()["status"] == "stopped"
    assert (await client.get(f"/api/v1/sessions/{created['session_id']}")).status_code == 404


async def test_seed_004_socket_sends_status_speech_and_transcription_events(base_url: str) -> None:
    speech = padded(espeak_speech("Turn on the kitchen light."), before_ms=300, after_ms=900)
    async with websockets.connect(ws(base_url, "/api/v1/ws")) as socket:
        status = (await until(socket, "event", "system_status"))[-1]
        for offset in range(0, len(speech.pcm_s16le), 6400):
            await socket.send(speech.pcm_s16le[offset : offset + 6400])
            await asyncio.sleep(0.05)  # faster than real time, still in order
        received = await until(socket, "event", "transcription")
        while not received[-1]["is_final"]:
            received += await until(socket, "event", "transcription")

    assert status["running"] is True
    assert "speech_detected" in [message["event"] for message in received]
    assert "kitchen light" in received[-1]["text"].lower()
    assert set(received[-1]) >= {"text", "is_final", "confidence", "timestamp"}


# --- seed 002 -------------------------------------------------------------------------------------


async def test_seed_002_speech_to_text_gives_the_transcript(client: httpx.AsyncClient) -> None:
    reply = await client.post("/speech-to-text", json={"audio_data": spoken_wav("Good morning.")})

    assert "good morning" in reply.json()["transcript"].lower()


async def test_seed_002_text_to_speech_gives_base64_wav(client: httpx.AsyncClient) -> None:
    reply = await client.post("/text-to-speech", json={"text": "Hello there."})

    with wave.open(io.BytesIO(base64.b64decode(reply.json()["audio_data"]))) as audio:
        assert audio.getnframes() > audio.getframerate() // 4


async def test_seed_002_stream_text_to_speech_streams_a_wav(client: httpx.AsyncClient) -> None:
    async with client.stream("POST", "/stream-text-to-speech", json={"text": "Hello there."}) as reply:
        audio = b"".join([chunk async for chunk in reply.aiter_bytes()])

    assert reply.headers["content-type"].startswith("audio/wav")
    assert audio[:4] == b"RIFF"
    assert len(audio) > 10_000


async def test_seed_002_stream_speech_to_text_reads_the_audio_body(client: httpx.AsyncClient) -> None:
    speech = padded(espeak_speech("Good morning."), before_ms=200, after_ms=300)

    reply = await client.post(
        "/stream-speech-to-text", content=speech.pcm_s16le, headers={"content-type": "audio/pcm"}
    )

    assert "good morning" in reply.json()["transcript"].lower()


async def test_seed_002_interact_answers_in_character(client: httpx.AsyncClient) -> None:
    reply = await client.post(
        "/interact",
        json={
            "user_input": "What is the capital of France?",
            "character_details": {"name": "Luna", "personality": "cheerful"},
            "mode": "text",
        },
    )

    assert "paris" in reply.json()["response"].lower()
    assert reply.json()["audio_data"] is None


async def test_seed_002_voice_session_speaks_its_vocabulary(base_url: str) -> None:
    async with websockets.connect(ws(base_url, "/ws/voice-session")) as socket:
        await socket.send(json.dumps({"type": "init", "character_details": {"name": "Luna"}}))
        greeting = (await until(socket, "type", "greeting"))[-1]
        await socket.send(json.dumps({"type": "text_message", "text": "Say hello."}))
        received = await until(socket, "type", "tts_end")

    kinds = [message["type"] for message in received]
    assert "Luna" in greeting["text"]
    assert kinds.count("llm2_final") == 1  # as soon as the text is made, not after the speech
    assert received[kinds.index("llm2_final")]["text"]
    assert base64.b64decode(received[kinds.index("tts_chunk")]["audio"])


async def test_seed_002_an_answer_cut_off_by_barge_in_still_gets_its_llm2_final(base_url: str) -> None:
    async with websockets.connect(ws(base_url, "/ws/voice-session")) as socket:
        await socket.send(
            json.dumps({"type": "text_message", "text": "Tell me a long story about a dragon."})
        )
        # A short answer's text may be made (and its llm2_final sent) before its first audio goes out.
        received = await until(socket, "type", "tts_chunk")
        await socket.send(json.dumps({"type": "barge_in"}))
        received += await until(socket, "type", "barge_in")
        if not any(message["type"] == "llm2_final" for message in received):
            received += await until(socket, "type", "llm2_final")
        await socket.send(json.dumps({"type": "ping"}))
        received += await until(socket, "type", "pong")

    assert [message["type"] for message in received].count("llm2_final") == 1


async def test_seed_002_barge_in_interrupts_the_spoken_answer(base_url: str) -> None:
    async with websockets.connect(ws(base_url, "/ws/voice-session")) as socket:
        await socket.send(
            json.dumps({"type": "text_message", "text": "Tell me a long story about a dragon."})
        )
        await until(socket, "type", "tts_chunk")
        await socket.send(json.dumps({"type": "barge_in"}))
        received = await until(socket, "type", "barge_in")

    assert received[-1] == {"type": "barge_in"}
