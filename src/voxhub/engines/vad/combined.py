"""Silero and WebRTC together: speech when both agree (`and`) or when either hears it (`or`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Self

from voxhub.engines.vad.base import VadCapabilities
from voxhub.engines.vad.segmenter import FrameChunker, check_sample_rate
from voxhub.engines.vad.silero import SileroVad, SileroVadStream
from voxhub.engines.vad.webrtc import WebRtcVad, WebRtcVadStream

if TYPE_CHECKING:
    from voxhub.config import Settings

Rule = Literal["and", "or"]


class CombinedVadStream:
    """A Silero stream and a WebRTC stream hearing the same audio, judged in Silero's 32 ms frames.

    WebRTC hears the audio whole, cut into its own 30 ms frames (its filters assume contiguous audio; fed
    only the first 30 ms of each frame it hears the 2 ms jumps as clicks), and a Silero frame counts as
    speech to WebRTC if any WebRTC frame completed during it (one, sometimes two) was speech.
    """

    def __init__(self, silero: SileroVadStream, webrtc: WebRtcVadStream, rule: Rule) -> None:
        self.silero = silero
        self.webrtc = webrtc
        self._webrtc_frames = FrameChunker(webrtc.frame_samples)
        self._both = rule == "and"

    @property
    def sample_rate_hz(self) -> int:
        return self.silero.sample_rate_hz

    @property
    def frame_samples(self) -> int:
        return self.silero.frame_samples

    @property
    def hangover_frames(self) -> int:
        # With "or", WebRTC's hangover shows through but cannot be told apart from Silero's verdict.
        return 0

    def is_speech(self, frame_s16le: bytes | bytearray | memoryview) -> bool:
        # Never short-circuited: both engines keep state and must hear every frame.
        silero = self.silero.is_speech(frame_s16le)
        webrtc = False
        for piece in self._webrtc_frames.frames(frame_s16le):
            if self.webrtc.is_speech(piece):
                webrtc = True
        return (silero and webrtc) if self._both else (silero or webrtc)

    def reset(self) -> None:
        self.silero.reset()
        self.webrtc.reset()
        self._webrtc_frames.reset()


class CombinedVad:
    """Silero VAD and WebRTC VAD, combined by `vad_combined_rule`; 8 or 16 kHz, 32 ms frames."""

    name = "combined"

    def __init__(self, silero: SileroVad, webrtc: WebRtcVad, rule: Rule) -> None:
        self.silero = silero
        self.webrtc = webrtc
        self.rule: Rule = rule
        rates = tuple(
            rate
            for rate in silero.capabilities.sample_rates_hz
            if rate in webrtc.capabilities.sample_rates_hz
        )
        self.capabilities = VadCapabilities(
            model=f"Silero {rule} WebRTC", sample_rates_hz=rates, frame_ms=silero.capabilities.frame_ms
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            SileroVad.from_settings(settings), WebRtcVad.from_settings(settings), settings.vad_combined_rule
        )

    async def warm_up(self) -> None:
        await self.silero.warm_up()
        await self.webrtc.warm_up()

    def create_stream(self, sample_rate_hz: int = 16000, threshold: float | None = None) -> CombinedVadStream:
        check_sample_rate("combined", sample_rate_hz, self.capabilities.sample_rates_hz)
        return CombinedVadStream(
            self.silero.create_stream(sample_rate_hz, threshold),
            self.webrtc.create_stream(sample_rate_hz, threshold),
            self.rule,
        )

    async def aclose(self) -> None:
        await self.silero.aclose()
        await self.webrtc.aclose()
