"""asr decodes: one decode for a client that reads only `transcript`; the final never waits on a partial.

The real Whisper engine decodes every request; the tests only watch its calls (and, in the second, hold a
partial back) by wrapping the engine behind the shared STT scheduler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop

from tests.protocols.wyoming.conftest import Voxhub, read_until
from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.engines.pool import EnginePool
from voxhub.engines.stt.scheduler import SttScheduler

SENTENCE = "Please turn on the kitchen light and close the blinds."


def chunks(text: str) -> Iterator[AudioChunk]:
    pcm = padded(espeak_speech(text), before_ms=200, after_ms=200).pcm_s16le
    step = 16000 // 10 * 2  # 100 ms
    for start in range(0, len(pcm), step):
        yield AudioChunk(16000, 2, 1, pcm[start : start + step])


@pytest.fixture
async def decodes(engine_pool: EnginePool, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The audio length (ms) of each decode the Whisper engine is asked for, in order."""
    scheduler = await engine_pool.get("stt")
    assert isinstance(scheduler, SttScheduler)
    calls: list[float] = []
    real = scheduler.engine.transcribe

    async def watched(audio: Any, **options: Any) -> Any:
        calls.append(audio.duration_ms)
        return await real(audio, **options)

    monkeypatch.setattr(scheduler.engine, "transcribe", watched)
    return calls


async def test_a_client_that_did_not_ask_for_streaming_gets_one_decode_and_no_chunks(
    voxhub: Voxhub, decodes: list[float]
) -> None:
    async with voxhub.client() as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(16000, 2, 1).event())
        for chunk in chunks(SENTENCE):
            await client.write_event(chunk.event())
            await asyncio.sleep(0.02)  # a little time between chunks, in which partials would be decoded
        await client.write_event(AudioStop().event())
        events = await read_until(client, "transcript")

    assert [event.type for event in events] == ["transcript"]
    assert word_error_rate(SENTENCE, Transcript.from_event(events[-1]).text) <= 0.2
    assert len(decodes) == 1


async def test_the_final_decode_starts_at_audio_stop_while_a_partial_is_still_decoding(
    voxhub: Voxhub, engine_pool: EnginePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler = await engine_pool.get("stt")
    assert isinstance(scheduler, SttScheduler)
    real = scheduler.engine.transcribe
    partial_started = asyncio.Event()
    release_partial = asyncio.Event()
    first: list[bool] = []

    async def holding_the_first(audio: Any, **options: Any) -> Any:
        if not first:  # the first decode of a streaming request is a partial: hold it until the final is in
            first.append(True)
            partial_started.set()
            await release_partial.wait()
        return await real(audio, **options)

    monkeypatch.setattr(scheduler.engine, "transcribe", holding_the_first)
    audio = list(chunks(SENTENCE))
    async with voxhub.client() as client:
        await client.write_event(Transcribe(language="en", context={"streaming": True}).event())
        await client.write_event(AudioStart(16000, 2, 1).event())
        for chunk in audio[:8]:
            await client.write_event(chunk.event())
        await asyncio.wait_for(partial_started.wait(), 30)
        for chunk in audio[8:]:
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        events = await read_until(client, "transcript-stop")
        release_partial.set()

    final = next(Transcript.from_event(e) for e in events if e.type == "transcript")
    assert word_error_rate(SENTENCE, final.text) <= 0.2
    assert [e.type for e in events][-2:] == ["transcript", "transcript-stop"]
