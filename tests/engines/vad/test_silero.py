"""The Silero VAD finds spoken utterances to within 100 ms, and nothing in silence or noise."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import numpy as np
import pytest

from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.vad.segmenter import find_segments
from voxhub.engines.vad.silero import SileroVad
from voxhub.errors import AudioError

if TYPE_CHECKING:
    from tests.engines.vad.conftest import Spoken

PHRASES = ["What is the weather like tomorrow?", "Good morning, how are you today?"]


@pytest.fixture(scope="module")
async def silero(session_settings: Settings) -> AsyncIterator[SileroVad]:
    engine = SileroVad.from_settings(session_settings)
    await engine.warm_up()
    yield engine
    await engine.aclose()


@pytest.mark.parametrize("text", PHRASES)
def test_an_utterance_is_one_segment_within_100_ms_of_the_speech(
    silero: SileroVad, spoken: Callable[..., Spoken], session_settings: Settings, text: str
) -> None:
    clip = spoken(text, before_ms=1000, after_ms=1200)

    segments = find_segments(silero.create_stream(), clip.audio, session_settings)

    assert len(segments) == 1
    assert segments[0].start_ms == pytest.approx(clip.start_ms, abs=100)
    assert segments[0].end_ms == pytest.approx(clip.end_ms, abs=100)


def test_8_khz_audio_is_heard_too(
    silero: SileroVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    clip = spoken(PHRASES[0], before_ms=1000, after_ms=1200, sample_rate_hz=8000)

    segments = find_segments(silero.create_stream(8000), clip.audio, session_settings)

    # Silero's 8 kHz model trails the end of speech by a little more than its 16 kHz one (106 ms here).
    assert len(segments) == 1
    assert segments[0].start_ms == pytest.approx(clip.start_ms, abs=100)
    assert segments[0].end_ms == pytest.approx(clip.end_ms, abs=150)


def test_silence_and_low_noise_hold_no_speech(
    silero: SileroVad, low_noise: PcmAudio, session_settings: Settings
) -> None:
    stream = silero.create_stream()

    assert find_segments(stream, PcmAudio.silence(4000, 16000), session_settings) == []
    assert find_segments(stream, low_noise, session_settings) == []


def test_two_utterances_apart_are_two_segments(
    silero: SileroVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    first = spoken("Turn on the kitchen light.", before_ms=1000, after_ms=1500)
    second = spoken("And the hallway too.", before_ms=0, after_ms=1200)
    both = first.then(second)

    segments = find_segments(silero.create_stream(), both.audio, session_settings)

    assert len(segments) == 2
    assert segments[0].end_ms < both.start_ms < segments[1].start_ms + 100


def frames_of(audio: PcmAudio) -> list[bytes]:
    """Silero's 512-sample frames of `audio`."""
    return [audio.pcm_s16le[offset : offset + 1024] for offset in range(0, len(audio.pcm_s16le) - 1023, 1024)]


def test_each_stream_keeps_its_own_state(silero: SileroVad, spoken: Callable[..., Spoken]) -> None:
    frames = frames_of(spoken(PHRASES[0], before_ms=0, after_ms=0).audio.slice_ms(0, 1024))
    alone = silero.create_stream()
    expected = [alone.probability(frame) for frame in frames]

    listener, talker = silero.create_stream(), silero.create_stream()
    interleaved = []
    for frame in frames:
        listener.probability(bytes(1024))
        interleaved.append(talker.probability(frame))

    assert interleaved == pytest.approx(expected, abs=1e-6)


def test_a_stream_created_after_another_is_dropped_starts_afresh(
    silero: SileroVad, spoken: Callable[..., Spoken]
) -> None:
    frames = frames_of(spoken(PHRASES[0], before_ms=0, after_ms=0).audio.slice_ms(0, 512))
    first = silero.create_stream()
    heard_first = [first.probability(frame) for frame in frames]
    del first
    gc.collect()  # its native model goes back to the engine's pool, to be reused

    second = silero.create_stream()

    assert [second.probability(frame) for frame in frames] == pytest.approx(heard_first, abs=1e-6)


def test_unsupported_rates_and_wrong_frame_sizes_are_refused(silero: SileroVad) -> None:
    with pytest.raises(AudioError, match="8000, 16000 Hz audio, not 44100 Hz"):
        silero.create_stream(44100)
    with pytest.raises(AudioError, match="exactly 512 samples"):
        silero.create_stream().is_speech(bytes(960))


async def test_near_silence_is_not_speech_and_skips_the_model(session_settings: Settings) -> None:
    engine = SileroVad.from_settings(session_settings)
    stream = engine.create_stream(16000)
    hiss = (np.random.default_rng(7).normal(0, 0.0003, 512) * 32768).astype("<i2").tobytes()  # about -70 dBFS

    assert not stream.is_speech(hiss)
    assert stream.last_probability == 0.0
