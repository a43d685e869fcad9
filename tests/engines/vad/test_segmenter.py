"""Endpointing: per-frame speech verdicts become segments that start, end, get cancelled or cut."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import pytest

from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.vad.segmenter import (
    FrameChunker,
    SpeechCancelled,
    SpeechEnded,
    SpeechEvent,
    SpeechSegmenter,
    SpeechStarted,
    find_segments,
    speech_segments,
)
from voxhub.engines.vad.silero import SileroVad
from voxhub.errors import AudioError

if TYPE_CHECKING:
    from tests.engines.vad.conftest import Spoken


def segmenter(
    *, start_secs: float = 0.3, max_utterance_secs: float = 10.0, hangover_frames: int = 0
) -> SpeechSegmenter:
    """100 ms frames; 0.3 s of speech starts a segment, 0.5 s of silence ends it, 0.5 s is the shortest."""
    return SpeechSegmenter(
        100.0,
        start_secs=start_secs,
        stop_secs=0.5,
        min_speech_secs=0.5,
        max_utterance_secs=max_utterance_secs,
        hangover_frames=hangover_frames,
    )


def narrate(segmenter: SpeechSegmenter, timeline: str) -> list[tuple[float, SpeechEvent]]:
    """Push one frame per character, `S` speech and `.` silence, then end the audio.

    Each event comes with how much audio had been heard when it came out.
    """
    heard = []
    for frame in timeline.replace(" ", ""):
        heard += [(segmenter.position_ms, event) for event in segmenter.push(frame == "S")]
    ended_at = segmenter.position_ms
    heard += [(ended_at, event) for event in segmenter.finish()]
    return heard


def test_a_spoken_command_starts_once_confirmed_and_ends_after_the_silence() -> None:
    # half a second of quiet, a second of speech, a short breath, half a second more, then quiet
    timeline = "..... SSSSSSSSSS .. SSSSS ......"

    events = narrate(segmenter(), timeline)

    # Confirmed after three speech frames, dated from the first; ended five silent frames after the last.
    assert events == [(800, SpeechStarted(500)), (2700, SpeechEnded(500, 2200))]


def test_a_click_too_short_to_confirm_starts_nothing() -> None:
    assert narrate(segmenter(), ".. SS ......") == []


def test_a_confirmed_burst_shorter_than_the_minimum_is_cancelled() -> None:
    events = narrate(segmenter(), ".. SSSS ......")

    assert events == [(500, SpeechStarted(200)), (1100, SpeechCancelled(200, 600))]


def test_a_dropped_frame_does_not_delay_the_start() -> None:
    events = narrate(segmenter(), ".. SS.SS ......")

    assert events[0] == (600, SpeechStarted(200))


def test_a_pause_as_long_as_the_stop_time_forgets_unconfirmed_speech() -> None:
    events = narrate(segmenter(), "SS ..... SSSSSS ......")

    assert events == [(1000, SpeechStarted(700)), (1800, SpeechEnded(700, 1300))]


def test_an_endless_monologue_is_cut_at_the_maximum_and_goes_on_in_a_new_segment() -> None:
    events = narrate(segmenter(max_utterance_secs=1.0), "S" * 25)

    assert events == [
        (300, SpeechStarted(0)),
        (1000, SpeechEnded(0, 1000, truncated=True)),
        (1300, SpeechStarted(1000)),
        (2000, SpeechEnded(1000, 2000, truncated=True)),
        (2300, SpeechStarted(2000)),
        (2500, SpeechEnded(2000, 2500)),  # the audio ran out
    ]


def test_with_no_start_time_the_first_speech_frame_starts_a_segment() -> None:
    events = narrate(segmenter(start_secs=0.0), "... SSSSSS ......")

    assert events[0] == (400, SpeechStarted(300))


def test_an_engines_hangover_is_taken_off_the_end() -> None:
    events = narrate(segmenter(hangover_frames=2), ". SSSSSSSS ......")

    assert events[-1] == (1400, SpeechEnded(100, 700))


def test_chunks_of_any_size_become_the_same_frames() -> None:
    pcm = random.Random(1).randbytes(10_000)
    chunker = FrameChunker(frame_samples=512)
    frames, offset = [], 0
    for size in [1, 3, 1023, 1024, 1025, 2, 4000, 7, 2915]:
        frames += [bytes(frame) for frame in chunker.frames(pcm[offset : offset + size])]
        offset += size

    assert offset == len(pcm)
    assert len(frames) == 9
    assert b"".join(frames) == pcm[: 9 * 1024]
    assert chunker.pending_bytes == len(pcm) - 9 * 1024


@pytest.fixture(scope="module")
async def silero(session_settings: Settings) -> AsyncIterator[SileroVad]:
    engine = SileroVad.from_settings(session_settings)
    await engine.warm_up()
    yield engine
    await engine.aclose()


async def chunked(audio: PcmAudio, chunk_ms: float) -> AsyncIterator[PcmAudio]:
    """`audio` as a live source would deliver it."""
    step = round(chunk_ms * audio.sample_rate_hz / 1000) * 2
    for offset in range(0, len(audio.pcm_s16le), step):
        yield PcmAudio(audio.pcm_s16le[offset : offset + step], audio.sample_rate_hz)


async def test_live_audio_yields_the_same_segment_as_the_whole_recording(
    silero: SileroVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    clip = spoken("Turn on the kitchen light.", before_ms=1000, after_ms=1200)
    [whole] = find_segments(silero.create_stream(), clip.audio, session_settings)

    live = speech_segments(silero.create_stream(), chunked(clip.audio, 20), session_settings)
    events = [event async for event in live]

    assert events == [SpeechStarted(whole.start_ms), SpeechEnded(whole.start_ms, whole.end_ms)]


async def test_live_audio_that_stops_mid_sentence_still_ends_its_segment(
    silero: SileroVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    clip = spoken("Turn on the kitchen light.", before_ms=1000, after_ms=0)
    cut_off = clip.audio.slice_ms(0, clip.end_ms - 300)

    live = speech_segments(silero.create_stream(), chunked(cut_off, 500), session_settings)
    events = [event async for event in live]

    started, ended = events
    assert isinstance(started, SpeechStarted)
    assert isinstance(ended, SpeechEnded)
    assert ended.end_ms == pytest.approx(cut_off.duration_ms, abs=32)  # the last whole frame


def test_a_recording_at_another_rate_is_resampled_for_the_stream(
    silero: SileroVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    clip = spoken("Turn on the kitchen light.", before_ms=1000, after_ms=1200, sample_rate_hz=44100)

    segments = find_segments(silero.create_stream(16000), clip.audio, session_settings)

    assert len(segments) == 1
    assert segments[0].start_ms == pytest.approx(clip.start_ms, abs=100)


async def test_live_audio_at_another_rate_is_refused(silero: SileroVad, session_settings: Settings) -> None:
    with pytest.raises(AudioError, match="audio is 48000 Hz but the VAD stream takes 16000 Hz"):
        async for _ in speech_segments(
            silero.create_stream(), chunked(PcmAudio.silence(100, 48000), 20), session_settings
        ):
            pass
