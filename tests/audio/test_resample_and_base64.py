"""Resampling keeps duration and pitch; base64 payloads are size-checked before they are decoded."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from voxhub.audio import PcmAudio, StreamResampler, decode_base64_audio, resample
from voxhub.errors import AudioError, PayloadTooLargeError


def dominant_frequency(audio: PcmAudio) -> float:
    spectrum = np.abs(np.fft.rfft(audio.to_float32()))
    return float(np.fft.rfftfreq(audio.sample_count, 1 / audio.sample_rate_hz)[spectrum.argmax()])


def test_resampling_keeps_duration_and_pitch() -> None:
    t = np.arange(48000) / 48000
    clip = PcmAudio.from_float32(0.5 * np.sin(2 * np.pi * 1000 * t), 48000)
    converted = resample(clip, 16000)
    assert converted.sample_count == 16000
    assert abs(dominant_frequency(converted) - 1000) < 5


def test_streaming_resampling_in_20_ms_chunks_matches_the_whole_clip_length() -> None:
    clip = PcmAudio.from_float32(np.random.default_rng(1).uniform(-0.3, 0.3, 24000), 24000)
    resampler = StreamResampler(24000, 16000)
    chunks = [resampler.push(clip.pcm_s16le[i : i + 960]) for i in range(0, len(clip.pcm_s16le), 960)]
    chunks.append(resampler.push(b"", last=True))
    assert abs(len(b"".join(chunks)) // 2 - 16000) <= 2


def test_a_payload_over_the_limit_is_refused_before_decoding() -> None:
    encoded = base64.b64encode(bytes(4096)).decode()
    with pytest.raises(PayloadTooLargeError, match="limit is 1024"):
        decode_base64_audio(encoded, max_bytes=1024)


def test_data_urls_and_url_safe_base64_are_accepted() -> None:
    raw = bytes(range(250))
    assert (
        decode_base64_audio("data:audio/wav;base64," + base64.b64encode(raw).decode(), max_bytes=1000) == raw
    )
    assert decode_base64_audio(base64.urlsafe_b64encode(raw).decode(), max_bytes=1000) == raw


def test_text_that_is_not_base64_is_invalid_audio() -> None:
    with pytest.raises(AudioError, match="not valid base64"):
        decode_base64_audio("this is not base64!", max_bytes=1000)
