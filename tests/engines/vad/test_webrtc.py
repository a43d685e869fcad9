"""The WebRTC VAD finds spoken utterances to within 100 ms at every rate it takes, and nothing in noise."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.vad.segmenter import find_segments
from voxhub.engines.vad.webrtc import WebRtcVad
from voxhub.errors import AudioError

if TYPE_CHECKING:
    from tests.engines.vad.conftest import Spoken

PHRASES = ["What is the weather like tomorrow?", "Good morning, how are you today?"]


@pytest.fixture(scope="module")
def webrtc(session_settings: Settings) -> WebRtcVad:
    return WebRtcVad.from_settings(session_settings)


@pytest.mark.parametrize("text", PHRASES)
def test_an_utterance_is_one_segment_within_100_ms_of_the_speech(
    webrtc: WebRtcVad, spoken: Callable[..., Spoken], session_settings: Settings, text: str
) -> None:
    clip = spoken(text, before_ms=1000, after_ms=1200)

    segments = find_segments(webrtc.create_stream(), clip.audio, session_settings)

    # WebRTC flags speech for 90 ms after it stops; without taking that off the end would be 100-120 ms late.
    assert len(segments) == 1
    assert segments[0].start_ms == pytest.approx(clip.start_ms, abs=100)
    assert segments[0].end_ms == pytest.approx(clip.end_ms, abs=100)


@pytest.mark.parametrize("rate", [8000, 32000, 48000])
def test_every_rate_the_library_takes_is_heard(
    webrtc: WebRtcVad, spoken: Callable[..., Spoken], session_settings: Settings, rate: int
) -> None:
    clip = spoken(PHRASES[0], before_ms=1000, after_ms=1200, sample_rate_hz=rate)

    segments = find_segments(webrtc.create_stream(rate), clip.audio, session_settings)

    assert len(segments) == 1
    assert segments[0].start_ms == pytest.approx(clip.start_ms, abs=100)
    assert segments[0].end_ms == pytest.approx(clip.end_ms, abs=100)


def test_silence_and_low_noise_hold_no_speech(
    webrtc: WebRtcVad, low_noise: PcmAudio, session_settings: Settings
) -> None:
    stream = webrtc.create_stream()

    assert find_segments(stream, PcmAudio.silence(4000, 16000), session_settings) == []
    assert find_segments(stream, low_noise, session_settings) == []


def test_two_utterances_apart_are_two_segments(
    webrtc: WebRtcVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    first = spoken("Turn on the kitchen light.", before_ms=1000, after_ms=1500)
    second = spoken("And the hallway too.", before_ms=0, after_ms=1200)
    both = first.then(second)

    segments = find_segments(webrtc.create_stream(), both.audio, session_settings)

    assert len(segments) == 2
    assert segments[0].end_ms < both.start_ms < segments[1].start_ms + 100


def test_unsupported_rates_and_wrong_frame_sizes_are_refused(webrtc: WebRtcVad) -> None:
    with pytest.raises(AudioError, match="8000, 16000, 32000, 48000 Hz audio, not 44100 Hz"):
        webrtc.create_stream(44100)
    with pytest.raises(AudioError, match="exactly 480 samples"):
        webrtc.create_stream().is_speech(bytes(1024))
