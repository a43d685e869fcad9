"""OpenAI Realtime at /v1/realtime, driven by a `websockets` client replaying the reference client's events."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
from openai import AsyncOpenAI
from openai.types.realtime import ResponseDoneEvent, ResponseTextDeltaEvent

from tests.api.live import live_server
from tests.protocols.realtime_client import TEXT_ONLY, ask_in_text, history_of, realtime
from tests.speech import espeak_speech, padded
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool


@pytest.fixture
async def base_url(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> AsyncIterator[str]:
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir)
    async with live_server(settings, engine_pool) as url:
        yield url.replace("http", "ws", 1)


async def test_a_text_turn_streams_text_deltas_and_completes(base_url: str) -> None:
    async with realtime(base_url) as client:
        await client.send(TEXT_ONLY)
        updated = await client.until("session.updated")
        done = await ask_in_text(client, "What is the capital of France?")

    assert updated["session"]["output_modalities"] == ["text"]
    deltas = [event["delta"] for event in client.received if event["type"] == "response.output_text.delta"]
    answer = done["response"]["output"][0]["content"][0]["text"]
    assert done["response"]["status"] == "completed"
    assert deltas
    assert answer == "".join(deltas).strip()
    assert client.types().index("response.created") < client.types().index("response.output_text.delta")


async def test_a_beta_client_gets_the_beta_event_names(base_url: str) -> None:
    async with realtime(base_url, beta=True) as client:
        await client.send({"type": "session.update", "session": {"modalities": ["text"]}})
        updated = await client.until("session.updated")
        await ask_in_text(client, "Say hello.")

    assert updated["session"]["modalities"] == ["text"]
    assert "conversation.item.created" in client.types()
    assert "response.text.delta" in client.types()
    assert "conversation.item.added" not in client.types()


@pytest.mark.slow
async def test_a_spoken_turn_is_detected_transcribed_and_answered_in_audio(base_url: str) -> None:
    question = padded(
        espeak_speech("What is the capital of France?", sample_rate_hz=24000), before_ms=300, after_ms=1500
    )
    chunk = 24000 * 2 * 50 // 1000  # 50 ms of pcm16
    async with realtime(base_url) as client:
        for offset in range(0, len(question.pcm_s16le), chunk):
            piece = base64.b64encode(question.pcm_s16le[offset : offset + chunk]).decode()
            await client.send({"type": "input_audio_buffer.append", "audio": piece})
        done = await client.until("response.done", timeout_secs=120)

    types = client.types()
    transcript = next(e for e in client.received if e["type"].endswith("input_audio_transcription.completed"))
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in client.received if e["type"] == "response.output_audio.delta"
    )
    assert types.index("input_audio_buffer.speech_started") < types.index("input_audio_buffer.speech_stopped")
    assert types.index("input_audio_buffer.committed") < types.index("response.created")
    assert "france" in transcript["transcript"].lower()
    assert len(audio) > 24000 * 2 // 2  # over half a second of speech at 24 kHz
    assert "response.output_audio_transcript.delta" in types
    assert done["response"]["status"] == "completed"


async def test_a_malformed_event_gets_an_error_naming_it_and_the_session_goes_on(base_url: str) -> None:
    async with realtime(base_url) as client:
        await client.send(
            {"type": "input_audio_buffer.append", "event_id": "evt_bad", "audio": "not base64!"}
        )
        error = await client.until("error")
        await client.send({"type": "no.such.event", "event_id": "evt_unknown"})
        unknown = await client.until("error")
        await client.send(TEXT_ONLY)
        await client.until("session.updated")
        done = await ask_in_text(client, "Say hello.")

    assert error["error"]["event_id"] == "evt_bad"
    assert unknown["error"]["event_id"] == "evt_unknown"
    assert done["response"]["status"] == "completed"


async def test_a_wrong_token_is_refused(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> None:
    settings = load_settings(data_dir=tmp_path / "data", models_dir=models_dir, auth_token="secret")
    async with live_server(settings, engine_pool) as url:
        socket_url = url.replace("http", "ws", 1) + "/v1/realtime"
        async with websockets.connect(
            socket_url, additional_headers={"Authorization": "Bearer wrong"}
        ) as bad:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await bad.recv()
        async with websockets.connect(
            socket_url, additional_headers={"Authorization": "Bearer secret"}
        ) as good:
            created = json.loads(await good.recv())

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert created["type"] == "session.created"


async def test_response_cancel_stops_a_spoken_answer(base_url: str) -> None:
    item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Tell me a long story."}],
    }
    async with realtime(base_url) as client:
        await client.send({"type": "conversation.item.create", "item": item})
        await client.send({"type": "response.create"})
        await client.until("response.output_audio.delta")
        await client.send({"type": "response.cancel"})
        done = await client.until("response.done")

    assert done["response"]["status"] == "cancelled"
    assert done["response"]["output"][0]["status"] == "incomplete"


async def test_with_manual_commits_response_create_answers_the_committed_audio(base_url: str) -> None:
    question = espeak_speech("What is the capital of France?", sample_rate_hz=24000)
    manual = {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
    }
    async with realtime(base_url) as client:
        await client.send(manual)
        updated = await client.until("session.updated")
        audio = base64.b64encode(question.pcm_s16le).decode()
        await client.send({"type": "input_audio_buffer.append", "audio": audio})
        # The reference client's createResponse(): commit, then ask for the answer straight away.
        await client.send({"type": "input_audio_buffer.commit"})
        await client.send({"type": "response.create"})
        transcript = await client.until("conversation.item.input_audio_transcription.completed")
        done = await client.until("response.done", timeout_secs=120)

    assert updated["session"]["audio"]["input"]["turn_detection"] is None
    assert len(client.of_type("response.created")) == 1
    assert "france" in transcript["transcript"].lower()
    assert done["response"]["status"] == "completed"


async def test_the_openai_sdk_realtime_client_holds_a_text_turn(base_url: str) -> None:
    client = AsyncOpenAI(api_key="unused", base_url="http://unused/v1", websocket_base_url=f"{base_url}/v1")
    async with client.realtime.connect(model="voxhub") as connection:
        await connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Say hello."}],
            }
        )
        await connection.response.create()
        deltas: list[str] = []
        async for event in connection:
            if isinstance(event, ResponseTextDeltaEvent):
                deltas.append(event.delta)
            if isinstance(event, ResponseDoneEvent):
                status = event.response.status
                break

    assert status == "completed"
    assert "".join(deltas).strip()


async def test_clear_drops_the_audio_not_yet_committed(base_url: str) -> None:
    manual = {
        "type": "session.update",
        "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
    }
    dropped = espeak_speech("What is the capital of France?", sample_rate_hz=24000)
    kept = espeak_speech("What is the capital of Italy?", sample_rate_hz=24000)
    async with realtime(base_url) as client:
        await client.send(manual)
        await client.until("session.updated")
        await client.send(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(dropped.pcm_s16le).decode()}
        )
        await client.send({"type": "input_audio_buffer.clear"})
        await client.until("input_audio_buffer.cleared")
        await client.send(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(kept.pcm_s16le).decode()}
        )
        await client.send({"type": "input_audio_buffer.commit"})
        transcript = await client.until("conversation.item.input_audio_transcription.completed")

    assert "italy" in transcript["transcript"].lower()
    assert "france" not in transcript["transcript"].lower()


async def test_deleting_a_committed_item_removes_it_from_the_history(base_url: str) -> None:
    async with realtime(base_url) as client:
        await client.send(TEXT_ONLY)
        await client.until("session.updated")
        done = await ask_in_text(client, "Say hello.")
        answer_id = done["response"]["output"][0]["id"]
        await client.send({"type": "conversation.item.delete", "item_id": answer_id})
        deleted = await client.until("conversation.item.deleted")
        history = await history_of(base_url, client)

    assert deleted["item_id"] == answer_id
    assert [message["role"] for message in history] == ["user"]


async def test_truncating_an_interrupted_answer_keeps_only_the_words_heard(base_url: str) -> None:
    item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Tell me a long story."}],
    }
    async with realtime(base_url) as client:
        await client.send({"type": "conversation.item.create", "item": item})
        await client.send({"type": "response.create"})
        audio = b""
        while len(audio) < 24000 * 2:  # a second of the answer has been sent
            audio += base64.b64decode((await client.until("response.output_audio.delta"))["delta"])
        await client.send({"type": "response.cancel"})
        done = await client.until("response.done")
        before = (await history_of(base_url, client))[-1]["content"]
        answer_id = done["response"]["output"][0]["id"]
        await client.send(
            {
                "type": "conversation.item.truncate",
                "item_id": answer_id,
                "content_index": 0,
                "audio_end_ms": 500,
            }
        )
        truncated = await client.until("conversation.item.truncated")
        after = (await history_of(base_url, client))[-1]["content"]

    assert truncated["audio_end_ms"] == 500
    assert 0 < len(after.split()) < len(before.split())
    assert before.startswith(after)
