"""A conversation turn over plain HTTP: text or one recorded utterance in, the answer out."""

from __future__ import annotations

import base64
import io
import wave

import httpx

from tests.api.error_shape import assert_error
from tests.speech import espeak_speech, padded
from voxhub.audio import PcmAudio, encode_audio


async def new_session(client: httpx.AsyncClient, **config: object) -> str:
    return str((await client.post("/api/v1/sessions", json=config)).json()["id"])


async def test_text_in_gives_the_answer_and_its_audio(client: httpx.AsyncClient) -> None:
    session = await new_session(client)

    reply = await client.post(
        f"/api/v1/sessions/{session}/text", json={"text": "What is the capital of France?"}
    )

    body = reply.json()
    assert reply.status_code == 200
    assert "paris" in body["text"].lower()
    with wave.open(io.BytesIO(base64.b64decode(body["audio_data"]))) as audio:
        assert audio.getframerate() == body["sample_rate_hz"] == 24000
        assert audio.getnframes() > 24000 // 2


async def test_a_text_only_session_answers_without_audio(client: httpx.AsyncClient) -> None:
    session = await new_session(client, mode={"voice_output": False})

    body = (await client.post(f"/api/v1/sessions/{session}/text", json={"text": "Say hello."})).json()

    assert body["text"]
    assert body["audio_data"] is None


async def test_the_turn_is_in_the_history_when_the_answer_arrives(client: httpx.AsyncClient) -> None:
    session = await new_session(client, mode={"voice_output": False})
    answer = (await client.post(f"/api/v1/sessions/{session}/text", json={"text": "Say hello."})).json()

    history = (await client.get(f"/api/v1/sessions/{session}/history")).json()["messages"]

    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "Say hello."),
        ("assistant", answer["text"]),
    ]


async def test_an_uploaded_utterance_is_transcribed_and_answered(client: httpx.AsyncClient) -> None:
    session = await new_session(client, mode={"voice_output": False})
    question = padded(espeak_speech("What is the capital of France?"), before_ms=200, after_ms=300)

    reply = await client.post(
        f"/api/v1/sessions/{session}/audio",
        files={"file": ("q.wav", encode_audio(question, "wav"), "audio/wav")},
    )

    body = reply.json()
    assert reply.status_code == 200, body
    assert "capital of france" in body["transcript"].lower()
    assert "paris" in body["text"].lower()


async def test_raw_pcm_can_be_sent_as_base64_json(client: httpx.AsyncClient) -> None:
    session = await new_session(client, mode={"voice_output": False})
    question = espeak_speech("What is the capital of France?", sample_rate_hz=8000)

    reply = await client.post(
        f"/api/v1/sessions/{session}/audio",
        json={"audio": base64.b64encode(question.pcm_s16le).decode(), "format": "pcm", "sample_rate": 8000},
    )

    assert reply.status_code == 200, reply.json()
    assert "france" in reply.json()["transcript"].lower()


async def test_silence_is_reported_as_no_speech(client: httpx.AsyncClient) -> None:
    session = await new_session(client)
    silence = encode_audio(PcmAudio.silence(1000, 16000), "wav")

    reply = await client.post(
        f"/api/v1/sessions/{session}/audio", files={"file": ("s.wav", silence, "audio/wav")}
    )

    assert_error(reply, 400, "invalid_input")
    assert reply.json()["details"]["code"] == "no_speech"


async def test_corrupt_audio_is_a_400_with_the_reason(client: httpx.AsyncClient) -> None:
    session = await new_session(client)

    reply = await client.post(
        f"/api/v1/sessions/{session}/audio", files={"file": ("x.wav", b"RIFF0000WAVE", "audio/wav")}
    )

    assert_error(reply, 400, "invalid_audio")


async def test_a_turn_for_an_unknown_session_is_a_404(client: httpx.AsyncClient) -> None:
    reply = await client.post("/api/v1/sessions/nobody/text", json={"text": "hello"})

    assert_error(reply, 404, "session_not_found")


async def test_text_to_a_session_without_text_input_is_refused(client: httpx.AsyncClient) -> None:
    session = await new_session(client, mode={"text_input": False})

    reply = await client.post(f"/api/v1/sessions/{session}/text", json={"text": "hello"})

    assert_error(reply, 400, "invalid_input")


async def test_a_turn_shows_up_in_the_latency_metrics(client: httpx.AsyncClient) -> None:
    session = await new_session(client)
    await client.post(f"/api/v1/sessions/{session}/text", json={"text": "Say hello."})

    latency = (await client.get("/api/v1/metrics")).json()["latency_ms"]

    for stage in ("llm_first_token", "tts_first_audio", "server_overhead", "turn_total"):
        assert latency[stage]["count"] >= 1, stage
        assert latency[stage]["p50"] >= 0, stage
    assert latency["server_overhead"]["p50"] < latency["turn_total"]["p50"]
