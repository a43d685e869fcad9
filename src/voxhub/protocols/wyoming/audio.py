"""Client audio of any rate, sample width and channel count, as the 16 kHz mono s16le voxhub works in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from wyoming.audio import AudioChunk

from voxhub.audio import PcmAudio, StreamResampler
from voxhub.protocols.wyoming.framing import FrameError

TARGET_RATE_HZ = 16000
_WIDTHS = (1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class AudioFormat:
    rate: int
    width: int
    channels: int

    @classmethod
    def of(cls, data: dict[str, object]) -> AudioFormat:
        """The format in an audio event's data; FrameError when it is missing or impossible."""
        rate, width, channels = data.get("rate"), data.get("width"), data.get("channels")
        if not (isinstance(rate, int) and 1000 <= rate <= 384_000):
            raise FrameError(f"audio `rate` must be an integer between 1000 and 384000 Hz, got {rate!r}")
        if width not in _WIDTHS:
            raise FrameError(f"audio `width` must be one of {_WIDTHS} bytes, got {width!r}")
        if not (isinstance(channels, int) and 1 <= channels <= 32):
            raise FrameError(f"audio `channels` must be an integer from 1 to 32, got {channels!r}")
        assert isinstance(width, int)
        return cls(rate, width, channels)

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels


class AudioInput:
    """Converts one audio stream chunk by chunk, keeping the resampler's state between chunks."""

    def __init__(self, target_rate_hz: int = TARGET_RATE_HZ) -> None:
        self._target_rate_hz = target_rate_hz
        self._format: AudioFormat | None = None
        self._resampler: StreamResampler | None = None

    def convert(self, chunk: AudioChunk) -> PcmAudio:
        """The chunk as mono s16le at the target rate (a format change mid-stream is followed)."""
        audio_format = AudioFormat.of({"rate": chunk.rate, "width": chunk.width, "channels": chunk.channels})
        if len(chunk.audio) % audio_format.frame_bytes:
            raise FrameError(
                f"an audio chunk of {len(chunk.audio)} bytes is not whole frames of "
                f"{audio_format.width} bytes x {audio_format.channels} channels"
            )
        tail = b""
        if audio_format != self._format:
            tail = self.flush().pcm_s16le
            self._format = audio_format
            self._resampler = StreamResampler(audio_format.rate, self._target_rate_hz)
        assert self._resampler is not None
        mono = _mono_s16(chunk.audio, audio_format)
        return PcmAudio(tail + self._resampler.push(mono), self._target_rate_hz)

    def flush(self) -> PcmAudio:
        """What the resampler still holds, at the end of the stream."""
        held = self._resampler.push(b"", last=True) if self._resampler is not None else b""
        self._resampler = None
        self._format = None
        return PcmAudio(held, self._target_rate_hz)


def _mono_s16(raw: bytes, audio_format: AudioFormat) -> bytes:
    samples = _as_int32(raw, audio_format.width)
    if audio_format.channels > 1:
        samples = samples.reshape(-1, audio_format.channels).mean(axis=1).astype(np.int32)
    return samples.astype("<i2").tobytes()


def _as_int32(raw: bytes, width: int) -> npt.NDArray[np.int32]:
    """Samples scaled to the 16-bit range: 8-bit is unsigned, wider ones keep their top 16 bits."""
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128) << 8
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.int32)
    if width == 3:
        top = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)[:, 1:].copy()
        return top.view("<i2").reshape(-1).astype(np.int32)
    return np.frombuffer(raw, dtype="<i4") >> 16
