"""Realtime spoken turns: barge-in with truncate, transcription deltas, and answers only when asked."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.live import live_server
from tests.protocols.realtime_client import TEXT_ONLY, history_of, realtime
from tests.speech import espeak_speech, padded
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool

pytestmark = pytest.mark.slow
BYTES_PER_MS = 24000 * 2 // 1000


@pytest.fixture
async def base_url(tmp_path: Path, models_dir: Path, engine_pool: EnginePool) -> AsyncIterator[str]:
    settings = load_settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        llm_max_tokens=48,  # answers of a few seconds: they are heard in real time
        wyoming_enabled=False,
    )
    async with live_server(settings, engine_pool) as url:
        yield url.replace("http", "ws", 1)


def spoken(text: str, *, after_ms: float = 1500) -> bytes:
    return padded(espeak_speech(text, sample_rate_hz=24000), before_ms=300, after_ms=after_ms).pcm_s16le


async def test_an_interruption_truncated_by_the_client_leaves_only_the_heard_words_in_history(
    base_url: str,
) -> None:
    async with realtime(base_url) as client:
        await client.append_audio(spoken("Tell me a long story about a dragon."))
        answer = await client.until("response.output_item.added", timeout_secs=120)
        heard = b""
        while len(heard) < 2 * 24000 * 2:  # two seconds of the answer have played
            heard += base64.b64decode((await client.until("response.output_audio.delta"))["delta"])
        # The user talks over the answer; on speech_started the reference client stops playback, cancels
        # the response and truncates the item it was playing at the point it reached.
        talking = asyncio.create_task(client.append_audio(spoken("Stop, what is two plus two?")))
        await client.until("input_audio_buffer.speech_started")
        played_ms = len(heard) // BYTES_PER_MS - 500  # what left the speaker, behind what arrived
        await client.send({"type": "response.cancel"})
        await client.send(
            {
                "type": "conversation.item.truncate",
                "item_id": answer["item"]["id"],
                "content_index": 0,
                "audio_end_ms": played_ms,
            }
        )
        truncated = await client.until("conversation.item.truncated")
        await talking
        await client.until("conversation.item.input_audio_transcription.completed", timeout_secs=120)
        await client.until("response.done", timeout_secs=120)
        history = await history_of(base_url, client)

    first = client.of_type("response.done")[0]["response"]
    told = first["output"][0]["content"][0]["transcript"]
    kept = history[1]["content"]
    assert first["status"] == "cancelled"
    assert truncated["audio_end_ms"] == played_ms
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[1]["interrupted"] is True
    assert 0 < len(kept.split()) < len(told.split())
    assert told.startswith(kept)


async def test_transcription_deltas_arrive_before_completed_and_build_the_transcript(base_url: str) -> None:
    async with realtime(base_url) as client:
        await client.send(TEXT_ONLY)
        await client.until("session.updated")
        question = spoken("Please turn on the kitchen lights and then open the garage door.")
        await client.append_audio(question, real_time=True)  # partials come while the user speaks
        completed = await client.until("conversation.item.input_audio_transcription.completed", 120)

    deltas = client.of_type("conversation.item.input_audio_transcription.delta")
    assert deltas
    assert {delta["item_id"] for delta in deltas} == {completed["item_id"]}
    assert completed["transcript"].startswith("".join(delta["delta"] for delta in deltas))


async def test_with_create_response_off_an_utterance_waits_for_response_create(base_url: str) -> None:
    update = {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "output_modalities": ["text"],
            "audio": {"input": {"turn_detection": {"type": "server_vad", "create_response": False}}},
        },
    }
    async with realtime(base_url) as client:
        await client.send(update)
        updated = await client.until("session.updated")
        await client.append_audio(spoken("What is the capital of France?"))
        completed = await client.until("conversation.item.input_audio_transcription.completed", 120)
        with pytest.raises(TimeoutError):
            await client.until("response.created", timeout_secs=2)
        await client.send({"type": "response.create"})
        done = await client.until("response.done", timeout_secs=120)
        history = await history_of(base_url, client)

    assert updated["session"]["audio"]["input"]["turn_detection"]["create_response"] is False
    assert "france" in completed["transcript"].lower()
    assert done["response"]["status"] == "completed"
    assert (history[0]["role"], history[0]["content"]) == ("user", completed["transcript"])


async def test_a_held_utterance_deleted_before_response_create_is_never_answered(base_url: str) -> None:
    detection = {"type": "server_vad", "create_response": False}
    update = {
        "type": "session.update",
        "session": {"output_modalities": ["text"], "turn_detection": detection},
    }
    async with realtime(base_url, beta=True) as client:
        await client.send(update)
        await client.until("session.updated")
        await client.append_audio(spoken("Forget this question."))
        first = await client.until("conversation.item.input_audio_transcription.completed", 120)
        await client.send({"type": "conversation.item.delete", "item_id": first["item_id"]})
        await client.until("conversation.item.deleted")
        await client.append_audio(spoken("What is the capital of France?"))
        await client.until("conversation.item.input_audio_transcription.completed", 120)
        await client.send({"type": "response.create"})
        await client.until("response.done", timeout_secs=120)
        history = await history_of(base_url, client)

    asked = [message["content"].lower() for message in history if message["role"] == "user"]
    assert len(asked) == 1
    assert "france" in asked[0]


async def test_with_interrupt_response_off_speech_does_not_stop_the_answer(base_url: str) -> None:
    detection = {"type": "server_vad", "interrupt_response": False, "create_response": False}
    update = {"type": "session.update", "session": {"turn_detection": detection}}
    async with realtime(base_url, beta=True) as client:
        await client.send(update)
        updated = await client.until("session.updated")
        await client.append_audio(spoken("Tell me a long story about a dragon."))
        await client.until("conversation.item.input_audio_transcription.completed", 120)
        await client.send({"type": "response.create"})
        await client.until("response.audio.delta", timeout_secs=120)
        await client.append_audio(spoken("Hmm, right.", after_ms=300))
        await client.until("input_audio_buffer.speech_started")
        done = await client.until("response.done", timeout_secs=120)

    assert updated["session"]["turn_detection"]["interrupt_response"] is False
    assert done["response"]["status"] == "completed"
