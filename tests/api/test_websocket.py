"""The native WebSocket protocol, spoken by a real client to a real server."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest
import websockets

from tests.api.live import Client, live_server
from tests.api.sockets import TEXT_ONLY, Start, connect
from tests.doubles.openai_server import running_double
from tests.speech import espeak_speech, padded
from voxhub.config import load_settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool


@pytest.mark.slow
async def test_a_spoken_question_gets_every_event_in_order(base_url: str) -> None:
    question = padded(espeak_speech("What is the capital of France?"), before_ms=300, after_ms=900)
    async with connect(base_url) as client:
        await client.speak(question.pcm_s16le)
        await client.until("response")

    order = client.types()
    for earlier, later in [
        ("speech_started", "speech_stopped"),
        ("speech_stopped", "response_delta"),
        ("response_delta", "audio_start"),
        ("audio_start", "audio"),
        ("audio", "audio_end"),
        ("audio_end", "response"),
    ]:
        assert order.index(earlier) < order.index(later), (earlier, later, order)
    transcripts = [event["data"] for event in client.events if event["type"] == "transcript"]
    # Partials come only as fast as the machine decodes (none on a saturated one), always before the final.
    assert [t["is_final"] for t in transcripts] == [False] * (len(transcripts) - 1) + [True]
    assert "capital of france" in transcripts[-1]["text"].lower()


@pytest.mark.slow
async def test_interrupting_stops_the_audio_and_history_keeps_the_truncated_answer(base_url: str) -> None:
    async with connect(base_url) as client:
        await client.send("text_message", text="Tell me a long story about a dragon and a knight.")
        await client.until_audio(30)  # over a second: a word or more of it was heard
        await client.send("interrupt")
        interrupted = await client.until("interrupted")
        await client.send("text_message", text="What is the capital of France?")
        await client.until("response")

    after = client.received[client.received.index(interrupted) + 1 :]
    next_start = next(
        i for i, item in enumerate(after) if isinstance(item, dict) and item["type"] == "audio_start"
    )
    assert not [item for item in after[:next_start] if isinstance(item, bytes)], "old audio after interrupted"
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get(f"/api/v1/sessions/{interrupted['session_id']}/history")
    cut = [
        m
        for m in response.json()["messages"]
        if m["turn_id"] == interrupted["turn_id"] and m["role"] == "assistant"
    ]
    assert cut[0]["interrupted"] is True
    assert 0 < len(cut[0]["content"].split()) < 40


async def test_switching_to_text_only_mid_session_stops_audio_for_the_next_answer(base_url: str) -> None:
    async with connect(base_url) as client:
        await client.send("text_message", text="Say hello.")
        await client.until("response")
        assert "audio_start" in client.types()
        await client.send("mode_change", voice_output=False)
        changed = await client.until("mode_changed")
        client.received.clear()
        await client.send("text_message", text="Say goodbye.")
        await client.until("response")

    assert changed["data"]["mode"]["voice_output"] is False
    assert "audio_start" not in client.types()
    assert "audio" not in client.types()


async def test_audio_can_come_back_as_base64_events(base_url: str) -> None:
    async with connect(base_url, "audio_encoding=base64&text_output=false") as client:
        await client.send("text_message", text="Say hello.")
        chunk = await client.until("tts_chunk")

    assert chunk["data"]["sample_rate_hz"] == 24000
    assert len(chunk["data"]["audio"]) > 100


async def test_connections_past_the_cap_are_refused_with_1013(start: Start) -> None:
    async with start(max_connections=3) as url:
        accepted: list[Client] = []
        refusals: list[websockets.ConnectionClosed] = []
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(5):
                try:
                    accepted.append(await stack.enter_async_context(connect(url, TEXT_ONLY)))
                except websockets.ConnectionClosed as closed:
                    refusals.append(closed)

    assert len(accepted) == 3
    assert [closed.rcvd.code for closed in refusals if closed.rcvd] == [1013, 1013]
    assert "capacity" in refusals[0].rcvd.reason  # type: ignore[union-attr]


async def test_a_token_is_needed_when_auth_is_on(start: Start) -> None:
    async with start(auth_token="s3cret") as url:
        with pytest.raises(websockets.ConnectionClosed) as refused:
            async with connect(url, TEXT_ONLY):
                pass
        async with connect(url, TEXT_ONLY + "&token=s3cret") as client:
            await client.send("ping")
            await client.until("pong")

    assert refused.value.rcvd is not None
    assert refused.value.rcvd.code == 1008


async def test_an_unknown_session_is_refused_on_the_session_route(base_url: str) -> None:
    with pytest.raises(websockets.ConnectionClosed) as refused:
        async with connect(base_url, TEXT_ONLY, path="/api/v1/sessions/nope/ws"):
            pass
    assert refused.value.rcvd is not None
    assert refused.value.rcvd.code == 1008


async def test_each_bad_message_gets_its_error_and_a_healthy_session_finishes_meanwhile(start: Start) -> None:
    async with (
        start(control_messages_per_sec=50, max_ws_message_bytes=4096) as url,
        connect(url, TEXT_ONLY) as healthy,
        connect(url, "voice_input=false") as troubled,
    ):
        await healthy.send("text_message", text="What is the capital of France?")
        await troubled.connection.send("{not json")
        await troubled.send("dance")
        await troubled.connection.send("x" * 5000)
        await troubled.connection.send(bytes(640))
        await troubled.send("text_message", text="   ")
        codes = [(await troubled.until("error"))["data"]["code"] for _ in range(5)]
        answer = await healthy.until("response")
        await troubled.send("ping")
        await troubled.until("pong")

    assert codes == [
        "invalid_message",
        "unknown_message_type",
        "message_too_large",
        "invalid_input",
        "empty_text",
    ]
    assert "paris" in answer["data"]["text"].lower()


async def test_a_flood_of_control_messages_is_rate_limited(start: Start) -> None:
    async with start(control_messages_per_sec=5) as url, connect(url, TEXT_ONLY) as client:
        for _ in range(30):
            await client.send("ping")
        error = await client.until("error")

    assert error["data"]["code"] == "rate_limited"


async def test_a_silent_connection_is_closed_after_the_connection_timeout(start: Start) -> None:
    async with start(connection_timeout_secs=0.5) as url, connect(url, TEXT_ONLY) as client:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.until("never", timeout_secs=5)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001


async def test_an_idle_session_expires_and_its_history_goes_with_it(start: Start) -> None:
    async with start(session_idle_secs=0.3, cleanup_interval_secs=0.1) as url:
        async with connect(url, TEXT_ONLY) as client:
            await client.send("text_message", text="Say hello.")
            answer = await client.until("response")
        session = answer["session_id"]
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get(f"/api/v1/sessions/{session}")).status_code == 200
            await asyncio.sleep(1.0)
            gone = await http.get(f"/api/v1/sessions/{session}/history")

    assert gone.status_code == 404


async def test_a_session_resumed_by_id_gives_the_llm_the_earlier_turns(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    # The remote LLM here is the OpenAI-compatible test double (no cloud is reachable), so we can read what
    # the LLM was sent; the 135M local model is too small to show memory by its answers.
    double = running_double().reset()
    settings = load_settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        llm_engine="openai",
        openai_base_url=double.base_url,
    )
    shared = Engines(
        vad=await engine_pool.get("vad"), stt=await engine_pool.get("stt"), tts=await engine_pool.get("tts")
    )
    async with live_server(settings, EnginePool(settings, shared)) as url:
        async with connect(url, TEXT_ONLY + "&session_id=resume-me") as client:
            await client.send("text_message", text="My name is Ada.")
            await client.until("response")
        async with connect(url, TEXT_ONLY + "&session_id=resume-me") as client:
            await client.send("text_message", text="What is my name?")
            await client.until("response")

    sent = [(m["role"], m["content"]) for m in double.state.chat_requests[-1]["messages"]]
    assert sent[1:] == [
        ("user", "My name is Ada."),
        ("assistant", double.state.reply),
        ("user", "What is my name?"),
    ]


async def test_a_config_update_that_changes_the_voice_engine_keeps_the_session_talking(base_url: str) -> None:
    async with connect(base_url, "voice_input=false&text_output=false") as client:
        await client.send("config_update", tts_engine="espeak", system_prompt="Answer in five words.")
        updated = await client.until("config_updated")
        await client.send("text_message", text="Say hello.")
        started = await client.until("audio_start")

    assert updated["data"]["config"]["tts_engine"] == "espeak"
    assert started["data"]["sample_rate_hz"] == 22050  # espeak's rate, not hibari's 24 kHz
