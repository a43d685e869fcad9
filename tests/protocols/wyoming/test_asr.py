"""asr: speech in (any format), transcripts out, streamed while the audio arrives."""

from __future__ import annotations

import numpy as np
from wyoming.asr import Transcribe, Transcript, TranscriptChunk
from wyoming.audio import AudioChunk, AudioStart, AudioStop

from tests.protocols.wyoming.conftest import Voxhub, read_until
from tests.speech import espeak_speech, padded, word_error_rate, words

SENTENCE = "Please turn on the kitchen light and close the blinds."
RATE, WIDTH, CHANNELS = 22050, 2, 2


def stereo_chunks(text: str) -> list[AudioChunk]:
    """`text` spoken at 22050 Hz in two channels, cut in 100 ms chunks as a microphone would send it."""
    mono = padded(espeak_speech(text, sample_rate_hz=RATE), before_ms=300, after_ms=300).samples()
    interleaved = np.repeat(mono, CHANNELS).astype("<i2").tobytes()
    step = RATE // 10 * WIDTH * CHANNELS
    return [
        AudioChunk(RATE, WIDTH, CHANNELS, interleaved[i : i + step]) for i in range(0, len(interleaved), step)
    ]


async def test_stereo_22khz_speech_is_transcribed_with_chunks_streamed_before_the_final(
    voxhub: Voxhub,
) -> None:
    chunks = stereo_chunks(SENTENCE)
    half = len(chunks) * 2 // 3
    async with voxhub.client() as client:
        # Asking for streamed transcripts (Wyoming has no field for it; voxhub reads the context).
        await client.write_event(Transcribe(language="en", context={"streaming": True}).event())
        await client.write_event(AudioStart(RATE, WIDTH, CHANNELS).event())
        for chunk in chunks[:half]:
            await client.write_event(chunk.event())
        # The first words come back while the rest of the utterance has not been sent yet.
        early = await read_until(client, "transcript-chunk")
        for chunk in chunks[half:]:
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        rest = await read_until(client, "transcript-stop")

    types = [event.type for event in early + rest]
    assert types[0] == "transcript-start"
    assert types[-2:] == ["transcript", "transcript-stop"]
    final = Transcript.from_event(rest[-2]).text
    assert word_error_rate(SENTENCE, final) <= 0.2, final
    streamed = "".join(
        TranscriptChunk.from_event(e).text for e in early + rest if e.type == "transcript-chunk"
    )
    assert words(streamed) == words(final)[: len(words(streamed))], (streamed, final)


async def test_a_client_that_only_reads_the_final_transcript_gets_it(voxhub: Voxhub) -> None:
    # As Home Assistant 2024.3 does: no `transcribe`, then wait for the one `transcript` event.
    async with voxhub.client() as client:
        await client.write_event(AudioStart(RATE, WIDTH, CHANNELS).event())
        for chunk in stereo_chunks("What time is it?"):
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        events = await read_until(client, "transcript")

    assert words(Transcript.from_event(events[-1]).text) == ["what", "time", "is", "it"]


async def test_an_empty_utterance_gives_an_empty_transcript(voxhub: Voxhub) -> None:
    async with voxhub.client() as client:
        await client.write_event(Transcribe().event())
        await client.write_event(AudioStart(16000, 2, 1).event())
        await client.write_event(AudioStop().event())
        events = await read_until(client, "transcript")

    assert Transcript.from_event(events[-1]).text == ""
