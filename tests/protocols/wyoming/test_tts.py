"""tts: text in, one audio stream out; streamed text gives audio per sentence."""

from __future__ import annotations

from wyoming.audio import AudioChunk, AudioStart
from wyoming.event import Event
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from tests.protocols.wyoming.conftest import Voxhub, read_until
from tests.speech import word_error_rate
from voxhub.audio import PcmAudio
from voxhub.engines.pool import EnginePool


async def heard(engine_pool: EnginePool, events: list[Event]) -> str:
    """What the audio in `events` says, by voxhub's own STT."""
    chunks = [AudioChunk.from_event(e) for e in events if e.type == "audio-chunk"]
    audio = PcmAudio(b"".join(chunk.audio for chunk in chunks), chunks[0].rate)
    stt = await engine_pool.get("stt")
    return (await stt.transcribe(audio, language="en")).text


async def test_synthesize_returns_one_audio_stream_that_says_the_text(
    voxhub: Voxhub, engine_pool: EnginePool
) -> None:
    text = "The kitchen light is now on."
    async with voxhub.client() as client:
        await client.write_event(Synthesize(text=text).event())
        events = await read_until(client, "audio-stop")

    types = [event.type for event in events]
    assert types[0] == "audio-start"
    assert set(types[1:-1]) == {"audio-chunk"}
    start = AudioStart.from_event(events[0])
    assert {(c.rate, c.width, c.channels) for c in map(AudioChunk.from_event, events[1:-1])} == {
        (start.rate, start.width, start.channels)
    }
    assert word_error_rate(text, await heard(engine_pool, events)) <= 0.2


async def test_streamed_text_is_spoken_sentence_by_sentence_then_synthesize_stopped(
    voxhub: Voxhub, engine_pool: EnginePool
) -> None:
    pieces = ["Good morning. ", "It is sunny ", "and warm today."]
    async with voxhub.client() as client:
        await client.write_event(SynthesizeStart().event())
        await client.write_event(SynthesizeChunk(text=pieces[0]).event())
        first_sentence = await read_until(client, "audio-stop")  # before the rest of the text is sent
        for piece in pieces[1:]:
            await client.write_event(SynthesizeChunk(text=piece).event())
        await client.write_event(Synthesize(text="".join(pieces)).event())  # for older servers: ignored
        await client.write_event(SynthesizeStop().event())
        rest = await read_until(client, "synthesize-stopped")

    events = first_sentence + rest
    assert [e.type for e in events if e.type != "audio-chunk"] == [
        "audio-start",
        "audio-stop",
        "audio-start",
        "audio-stop",
        "synthesize-stopped",
    ]
    assert len({AudioChunk.from_event(e).rate for e in events if e.type == "audio-chunk"}) == 1
    assert word_error_rate("".join(pieces), await heard(engine_pool, events)) <= 0.25
