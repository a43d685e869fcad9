"""What users hit on the native socket, each a story with a real client, server and engines."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
import websockets

from tests.api.live import serve_asgi
from tests.api.sockets import TEXT_ONLY, Start, connect
from tests.speech import espeak_speech, padded
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool
from voxhub.server import create_app
from voxhub.sessions.profiles import Profile

STORY = "Tell me a long story about a dragon."
VOICE_OUT = "voice_input=false"  # typed in, spoken back: an answer lasts as long as its speech


async def test_deleting_the_session_while_it_answers_tells_the_client_and_closes(base_url: str) -> None:
    async with connect(base_url, VOICE_OUT) as client, httpx.AsyncClient(base_url=base_url) as http:
        await client.send("text_message", text=STORY)
        delta = await client.until("response_delta")
        deleted = await http.delete(f"/api/v1/sessions/{delta['session_id']}")
        error = await client.until("error", timeout_secs=5)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.until("never", timeout_secs=5)

    assert deleted.status_code == 204
    assert error["data"]["code"] == "session_deleted"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404


async def test_a_config_update_that_cannot_be_built_keeps_the_old_pipeline_and_config(base_url: str) -> None:
    async with connect(base_url, TEXT_ONLY + "&session_id=keep-me") as client:
        await client.send("config_update", stt_engine="openai")  # no openai_base_url is set
        error = await client.until("error")
        await client.send("text_message", text="What is the capital of France?")
        answer = await client.until("response")
    async with connect(base_url, TEXT_ONLY + "&session_id=keep-me") as again:
        started = again.events[-1]

    assert error["data"]["code"] in ("config_error", "invalid_setting")
    assert "paris" in answer["data"]["text"].lower()
    assert started["data"]["config"]["stt_engine"] is None


async def test_a_config_update_during_an_answer_interrupts_it_and_history_keeps_the_question(
    base_url: str,
) -> None:
    async with connect(base_url, VOICE_OUT) as client, httpx.AsyncClient(base_url=base_url) as http:
        await client.send("text_message", text=STORY)
        await client.until("response_delta")
        await client.send("config_update", persona="")
        interrupted = await client.until("interrupted")
        await client.until("config_updated")
        history = (await http.get(f"/api/v1/sessions/{interrupted['session_id']}/history")).json()

    assert interrupted["turn_id"]
    assert [m["content"] for m in history["messages"] if m["role"] == "user"] == [STORY]


async def test_base64_audio_in_20_ms_chunks_is_not_rate_limited_like_control_messages(base_url: str) -> None:
    speech = padded(espeak_speech("What is the capital of France?"), before_ms=300, after_ms=900)
    pcm = speech.pcm_s16le
    frame = 2 * 320  # 20 ms at 16 kHz
    async with connect(base_url, "voice_output=false&audio_encoding=base64") as client:
        for offset in range(0, len(pcm), frame):
            chunk = base64.b64encode(pcm[offset : offset + frame]).decode()
            await client.send("audio_chunk", audio=chunk)
        final = await client.until("transcript", is_final=True)

    assert not [e for e in client.events if e["type"] == "error"]
    assert "france" in final["data"]["text"].lower()


async def test_audio_far_faster_than_real_time_is_dropped_with_one_error(start: Start) -> None:
    async with (
        start(audio_burst_secs=1.0, audio_realtime_factor=1.0) as url,
        connect(url, "voice_output=false") as client,
    ):
        for _ in range(50):  # 5 s of audio at once, against a burst of 1 s
            await client.connection.send(bytes(3200))
        await client.send("ping")
        await client.until("pong")

    errors = [e["data"]["code"] for e in client.events if e["type"] == "error"]
    assert errors == ["rate_limited"]


async def test_a_profile_with_an_unknown_wake_word_is_refused_when_saved(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        reply = await http.post(
            "/api/v1/profiles/porcupine", json={"activation": "wake_word", "wake_words": ["porcupine"]}
        )

    assert reply.status_code == 400
    assert "hey_jarvis" in reply.json()["details"]["known"]


async def test_a_stored_profile_with_an_unknown_wake_word_falls_back_with_an_error(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    app = create_app(load_settings(data_dir=tmp_path / "data", models_dir=models_dir), engines=engine_pool)
    async with serve_asgi(app) as url:
        profile = Profile("broken", "", activation="wake_word", wake_words=("porcupine",))
        await app.state.voxhub.sessions.store.save_profile(profile)  # saved before the check existed
        async with connect(url, "voice_output=false&profile=broken") as client:
            await client.send("ping")
            await client.until("pong")

    errors = [e["data"]["code"] for e in client.events if e["type"] == "error"]
    assert errors == ["invalid_profile"]


async def test_a_voice_the_tts_lacks_is_refused_on_update(base_url: str) -> None:
    async with connect(base_url, TEXT_ONLY) as client, httpx.AsyncClient(base_url=base_url) as http:
        await client.send("config_update", voice="no-such-voice")
        error = await client.until("error")
        patched = await http.patch(f"/api/v1/sessions/{error['session_id']}", json={"voice": "no-such-voice"})

    assert error["data"]["code"] in ("invalid_setting", "config_error")
    assert patched.status_code == 400


async def test_a_message_nested_thousands_deep_gets_an_error_and_the_socket_lives(base_url: str) -> None:
    async with connect(base_url, TEXT_ONLY) as client:
        await client.connection.send("[" * 5000 + "]" * 5000)
        await client.connection.send(json.dumps({"type": "text_message", "data": {"text": 12345}}))
        codes = [(await client.until("error"))["data"]["code"] for _ in range(2)]
        await client.send("ping")
        await client.until("pong")

    assert codes == ["invalid_message", "invalid_message"]
