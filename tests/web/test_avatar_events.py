"""What the web client relies on from the server: viseme events with the audio, and `audio_played`."""

from __future__ import annotations

import httpx
import pytest

from tests.api.live import Client
from tests.api.sockets import connect
from tests.web.conftest import Start

TEXT_IN_VOICE_OUT = "voice_input=false&text_output=false"


def audio_ms(client: Client, rate_hz: int) -> float:
    return sum(len(item) for item in client.received if isinstance(item, bytes)) * 500 / rate_hz


@pytest.mark.slow
@pytest.mark.parametrize("tts_engine", ["espeak", "hibari"])
async def test_with_the_avatar_on_each_sentence_comes_with_mouth_shapes_that_span_its_audio(
    start: Start, tts_engine: str
) -> None:
    # A short answer: its audio is paced in real time.
    async with start(llm_max_tokens=30) as url, connect(url, TEXT_IN_VOICE_OUT + "&avatar=true") as client:
        await client.send("config_update", tts_engine=tts_engine)
        await client.until("config_updated")
        await client.send("text_message", text="Say: good morning. Then say: see you soon.")
        started = await client.until("audio_start")
        await client.until("audio_end", timeout_secs=60)

    visemes = [event for event in client.events if event["type"] == "viseme"]
    track = [shape for event in visemes for shape in event["data"]["visemes"]]
    assert visemes
    assert all(event["turn_id"] == started["turn_id"] for event in visemes)
    assert len({shape["viseme"] for shape in track}) >= 3
    starts = [shape["start_ms"] for shape in track]
    assert starts == sorted(starts)
    end = track[-1]["start_ms"] + track[-1]["duration_ms"]
    assert end == pytest.approx(audio_ms(client, started["data"]["sample_rate_hz"]), abs=5)


async def test_without_the_avatar_no_viseme_events_are_sent(start: Start) -> None:
    async with start() as url, connect(url, TEXT_IN_VOICE_OUT) as client:
        await client.send("text_message", text="Say hello.")
        await client.until("audio_end")

    assert "viseme" not in client.types()


@pytest.mark.slow
async def test_audio_played_keeps_in_history_only_the_words_the_user_heard(start: Start) -> None:
    async with start() as url, connect(url, TEXT_IN_VOICE_OUT) as client:
        await client.send("text_message", text="Tell me a long story about a dragon and a knight.")
        started = await client.until("audio_start")
        await client.until_audio(40)
        await client.send("interrupt")
        await client.until("interrupted")
        await client.send("audio_played", turn_id=started["turn_id"], played_ms=500)
        played = await client.until("audio_played")
        async with httpx.AsyncClient(base_url=url) as http:
            history = (await http.get(f"/api/v1/sessions/{started['session_id']}/history")).json()

    kept = played["data"]["text"]
    answer = next(m for m in history["messages"] if m["role"] == "assistant")
    assert played["turn_id"] == started["turn_id"]
    assert played["data"]["played_ms"] == 500 < played["data"]["sent_ms"]
    assert answer["content"] == kept
    assert answer["interrupted"]
    assert len(kept.split()) <= 3  # half a second of speech


async def test_audio_played_for_a_turn_without_audio_is_a_clear_error(start: Start) -> None:
    async with start() as url, connect(url, TEXT_IN_VOICE_OUT) as client:
        await client.send("audio_played", turn_id="turn_unknown", played_ms=100)
        error = await client.until("error")

    assert error["data"]["code"] == "invalid_input"
    assert "turn_unknown" in error["data"]["error"]


async def test_synthesize_as_json_includes_a_viseme_track_for_the_audio(start: Start) -> None:
    async with start() as url, httpx.AsyncClient(base_url=url) as http:
        body = (
            await http.post("/api/v1/synthesize", json={"text": "Hello there.", "response": "json"})
        ).json()

    track = body["visemes"]
    assert track[0]["start_ms"] == 0
    assert track[-1]["start_ms"] + track[-1]["duration_ms"] == pytest.approx(body["duration_ms"], abs=1)


@pytest.mark.slow
async def test_a_turn_over_http_returns_the_viseme_track_with_the_audio_when_the_avatar_is_on(
    start: Start,
) -> None:
    async with start() as url:
        async with connect(url, "session_id=face&avatar=true"):
            pass  # the session now has the avatar on
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            body = (await http.post("/api/v1/sessions/face/text", json={"text": "Say hello."})).json()

    assert body["audio_data"]
    assert body["visemes"]
    assert {"viseme", "start_ms", "duration_ms"} == set(body["visemes"][0])
