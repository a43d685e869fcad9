"""PCM audio as voxhub passes it around: signed 16-bit little-endian mono, rate alongside."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_WIDTH_BYTES = 2
_INT16_SCALE = 32768.0


@dataclass(frozen=True, slots=True)
class PcmAudio:
    """A stretch of mono s16le audio at `sample_rate_hz`."""

    pcm_s16le: bytes
    sample_rate_hz: int

    @property
    def sample_count(self) -> int:
        return len(self.pcm_s16le) // SAMPLE_WIDTH_BYTES

    @property
    def duration_ms(self) -> float:
        return 1000.0 * self.sample_count / self.sample_rate_hz

    @property
    def duration_secs(self) -> float:
        return self.sample_count / self.sample_rate_hz

    def samples(self) -> npt.NDArray[np.int16]:
        """The samples as a read-only int16 view (no copy)."""
        return np.frombuffer(self.pcm_s16le, dtype="<i2")

    def to_float32(self) -> npt.NDArray[np.float32]:
        """Samples scaled to [-1, 1)."""
        return self.samples().astype(np.float32) / np.float32(_INT16_SCALE)

    @classmethod
    def from_float32(cls, samples: npt.NDArray[np.floating], sample_rate_hz: int) -> PcmAudio:
        """Clip float samples to [-1, 1] and quantize them."""
        clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
        return cls((clipped * np.float32(32767.0)).astype("<i2").tobytes(), sample_rate_hz)

    @classmethod
    def silence(cls, duration_ms: float, sample_rate_hz: int) -> PcmAudio:
        return cls(bytes(SAMPLE_WIDTH_BYTES * round(duration_ms * sample_rate_hz / 1000)), sample_rate_hz)

    def __add__(self, other: PcmAudio) -> PcmAudio:
        if other.sample_rate_hz != self.sample_rate_hz:
            raise ValueError(f"cannot join {self.sample_rate_hz} Hz and {other.sample_rate_hz} Hz audio")
        return PcmAudio(self.pcm_s16le + other.pcm_s16le, self.sample_rate_hz)

    def slice_ms(self, start_ms: float, end_ms: float | None = None) -> PcmAudio:
        start = round(start_ms * self.sample_rate_hz / 1000) * SAMPLE_WIDTH_BYTES
        end = len(self.pcm_s16le) if end_ms is None else round(end_ms * self.sample_rate_hz / 1000) * 2
        return PcmAudio(self.pcm_s16le[start:end], self.sample_rate_hz)


def mix_to_mono(samples: npt.NDArray[np.float32], channels: int) -> npt.NDArray[np.float32]:
    """Average interleaved channels into one."""
    if channels == 1:
        return samples
    frames = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    mono: npt.NDArray[np.float32] = frames.mean(axis=1, dtype=np.float32)
    return mono
