"""The WebRTC VAD (webrtcvad-wheels): a Gaussian-mixture model, no model file, about 30 µs a frame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

import webrtcvad

from voxhub.engines.vad.base import VadCapabilities
from voxhub.engines.vad.segmenter import check_sample_rate, frame_size_error

if TYPE_CHECKING:
    from voxhub.config import Settings

_SAMPLE_RATES_HZ = (8000, 16000, 32000, 48000)
_FRAME_MS = 30  # the library also takes 10 and 20 ms; the longest is the steadiest
# After any speech frame WebRTC keeps answering "speech" for at least this many 30 ms frames
# (kOverHangMax1 in its vad_core.c: quality and low-bitrate modes 3, aggressive modes 2).
_HANGOVER_FRAMES = (3, 3, 2, 2)


class WebRtcVadStream:
    """One session's WebRTC VAD state."""

    def __init__(self, sample_rate_hz: int, aggressiveness: int) -> None:
        self._aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)
        self._sample_rate_hz = sample_rate_hz
        self._frame_samples = sample_rate_hz * _FRAME_MS // 1000
        self._frame_bytes = 2 * self._frame_samples
        self.hangover_frames = _HANGOVER_FRAMES[aggressiveness]

    @property
    def sample_rate_hz(self) -> int:
        return self._sample_rate_hz

    @property
    def frame_samples(self) -> int:
        return self._frame_samples

    def is_speech(self, frame_s16le: bytes | bytearray | memoryview) -> bool:
        if len(frame_s16le) != self._frame_bytes and memoryview(frame_s16le).nbytes != self._frame_bytes:
            raise frame_size_error("webrtc", frame_s16le, self._frame_samples)
        return bool(self._vad.is_speech(frame_s16le, self._sample_rate_hz, self._frame_samples))

    def reset(self) -> None:
        # The library keeps no reset call; a fresh instance costs about 10 µs.
        self._vad = webrtcvad.Vad(self._aggressiveness)


class WebRtcVad:
    """WebRTC's VAD at `vad_webrtc_aggressiveness` (0 lenient to 3 strict); 30 ms frames."""

    name = "webrtc"

    def __init__(self, aggressiveness: int) -> None:
        self.capabilities = VadCapabilities(
            model=f"WebRTC VAD, aggressiveness {aggressiveness}",
            sample_rates_hz=_SAMPLE_RATES_HZ,
            frame_ms=float(_FRAME_MS),
        )
        self.aggressiveness = aggressiveness

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings.vad_webrtc_aggressiveness)

    async def warm_up(self) -> None:
        """Nothing to load: the model is compiled into the library."""

    def create_stream(self, sample_rate_hz: int = 16000, threshold: float | None = None) -> WebRtcVadStream:
        """`threshold` maps onto WebRTC's aggressiveness: below 0.25 is 0, from 0.75 on it is 3."""
        check_sample_rate("webrtc", sample_rate_hz, _SAMPLE_RATES_HZ)
        aggressiveness = self.aggressiveness if threshold is None else min(3, int(threshold * 4))
        return WebRtcVadStream(sample_rate_hz, aggressiveness)

    async def aclose(self) -> None:
        """Nothing to release."""
