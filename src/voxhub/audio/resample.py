"""Sample-rate conversion with soxr, one-shot or streaming."""

from __future__ import annotations

import numpy as np
import soxr

from voxhub.audio.pcm import PcmAudio


def resample(audio: PcmAudio, sample_rate_hz: int) -> PcmAudio:
    """The same audio at another rate (returned as is when the rate already matches)."""
    if audio.sample_rate_hz == sample_rate_hz or not audio.pcm_s16le:
        return PcmAudio(audio.pcm_s16le, sample_rate_hz)
    out = soxr.resample(audio.samples(), audio.sample_rate_hz, sample_rate_hz, quality="HQ")
    return PcmAudio(np.asarray(out, dtype="<i2").tobytes(), sample_rate_hz)


class StreamResampler:
    """Resamples a stream chunk by chunk, keeping filter state between chunks."""

    def __init__(self, in_rate_hz: int, out_rate_hz: int) -> None:
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        self._passthrough = in_rate_hz == out_rate_hz
        self._stream = (
            None
            if self._passthrough
            else soxr.ResampleStream(in_rate_hz, out_rate_hz, 1, dtype="int16", quality="HQ")
        )

    def push(self, pcm_s16le: bytes, *, last: bool = False) -> bytes:
        """Resample one chunk; pass `last=True` to flush what the filter holds back."""
        if self._stream is None:
            return pcm_s16le
        out = self._stream.resample_chunk(np.frombuffer(pcm_s16le, dtype="<i2"), last=last)
        return bytes(np.asarray(out, dtype="<i2").data)
