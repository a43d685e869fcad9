"""The combined VAD: Silero and WebRTC must agree (`and`), or either may hear speech (`or`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import numpy as np
import pytest

from voxhub.audio import PcmAudio
from voxhub.config import Settings
from voxhub.engines.vad.combined import CombinedVad
from voxhub.engines.vad.segmenter import find_segments

if TYPE_CHECKING:
    from tests.engines.vad.conftest import Spoken


@pytest.fixture(scope="module")
async def combined(session_settings: Settings) -> AsyncIterator[CombinedVad]:
    engine = CombinedVad.from_settings(session_settings)
    await engine.warm_up()
    yield engine
    await engine.aclose()


def hum(frequency_hz: float, duration_ms: float) -> PcmAudio:
    """A steady loud tone: WebRTC's energy-and-spectrum model takes it for speech, Silero does not."""
    t = np.arange(round(16 * duration_ms)) / 16000
    return PcmAudio.from_float32(0.3 * np.sin(2 * np.pi * frequency_hz * t), 16000)


def test_an_utterance_is_one_segment_within_100_ms_of_the_speech(
    combined: CombinedVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    clip = spoken("What is the weather like tomorrow?", before_ms=1000, after_ms=1200)

    segments = find_segments(combined.create_stream(), clip.audio, session_settings)

    assert combined.rule == "and"
    assert len(segments) == 1
    assert segments[0].start_ms == pytest.approx(clip.start_ms, abs=100)
    assert segments[0].end_ms == pytest.approx(clip.end_ms, abs=100)


def test_silence_and_low_noise_hold_no_speech(
    combined: CombinedVad, low_noise: PcmAudio, session_settings: Settings
) -> None:
    stream = combined.create_stream()

    assert find_segments(stream, PcmAudio.silence(4000, 16000), session_settings) == []
    assert find_segments(stream, low_noise, session_settings) == []


def test_two_utterances_apart_are_two_segments(
    combined: CombinedVad, spoken: Callable[..., Spoken], session_settings: Settings
) -> None:
    first = spoken("Turn on the kitchen light.", before_ms=1000, after_ms=1500)
    second = spoken("And the hallway too.", before_ms=0, after_ms=1200)

    segments = find_segments(combined.create_stream(), first.then(second).audio, session_settings)

    assert len(segments) == 2


def test_a_hum_only_webrtc_hears_is_speech_by_the_or_rule_alone(session_settings: Settings) -> None:
    audio = PcmAudio.silence(1000, 16000) + hum(1000, 2000) + PcmAudio.silence(1000, 16000)
    both_must_agree = CombinedVad.from_settings(
        session_settings.model_copy(update={"vad_combined_rule": "and"})
    )
    either_will_do = CombinedVad.from_settings(
        session_settings.model_copy(update={"vad_combined_rule": "or"})
    )

    assert find_segments(both_must_agree.create_stream(), audio, session_settings) == []
    [segment] = find_segments(either_will_do.create_stream(), audio, session_settings)
    assert segment.start_ms == pytest.approx(1000, abs=100)
