"""openWakeWord (pyopen-wakeword): a shared speech-embedding frontend and one small classifier per word.

The frontend turns 16 kHz audio into a mel spectrogram and then into 96-value speech embeddings, one per
80 ms; each word's classifier scores the last ~1.3 s of embeddings. Models and the TensorFlow Lite
library ship inside the `pyopen-wakeword` wheel and are checked against their sha256 before use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

from pyopen_wakeword import OpenWakeWord, OpenWakeWordFeatures

from voxhub.engines.wake.base import (
    WakeCapabilities,
    WakeDetection,
    check_known_wake_words,
    sensitive_cutoff,
)
from voxhub.engines.wake.custom import CustomWakeModel, custom_models
from voxhub.engines.wake.oww_onnx import OnnxWakeWord
from voxhub.errors import ModelError
from voxhub.models import store
from voxhub.models.catalog import BUNDLED

if TYPE_CHECKING:
    from voxhub.config import Settings

_MODEL = "openwakeword"
_SAMPLE_RATE_HZ = 16000
_BYTES_PER_MS = _SAMPLE_RATE_HZ * 2 // 1000
_FRONTEND = ("melspectrogram", "embedding_model")
DEFAULT_CUTOFF = 0.5  # openWakeWord's own default threshold
# Scores above the cutoff on this many embeddings in a row (80 ms apart) fire: one high embedding alone is
# how near misses ("Hey Jack" against hey_jarvis) look; a spoken wake word stays high for several.
TRIGGER_EMBEDDINGS = 2
REFRACTORY_MS = 1000.0
BUILTIN_WAKE_WORDS: tuple[str, ...] = tuple(
    Path(file.path).stem
    for file in BUNDLED[_MODEL].files
    if file.path.endswith(".tflite") and Path(file.path).stem not in _FRONTEND
)


@dataclass(frozen=True, slots=True)
class OwwModel:
    """One verified openWakeWord classifier and how it is scored."""

    wake_word: str
    model_path: Path
    cutoff: float


def _bundled_path(stem: str) -> Path:
    (file,) = (file for file in BUNDLED[_MODEL].files if Path(file.path).stem == stem)
    return store.bundled_file(_MODEL, file)


def _tensorflow_lite_library() -> Path:
    root = store.package_dir("pyopen_wakeword")
    found = next(iter(sorted((root / "lib").glob("*tensorflowlite_c.*"))), None) if root else None
    if found is None:
        raise ModelError(
            "pyopen-wakeword's TensorFlow Lite library is missing; "
            "reinstall it: `pip install --force-reinstall --no-deps pyopen-wakeword`"
        )
    return found


class OpenWakeStream:
    """One session's openWakeWord state: its own frontend and one classifier per word (both stateful)."""

    def __init__(self, models: Sequence[OwwModel], frontend: tuple[Path, Path], library: Path) -> None:
        self.models = tuple(models)
        self._library = library
        self._features = OpenWakeWordFeatures(frontend[0], frontend[1], library)
        self._detectors = [self._new_detector(model) for model in self.models]
        self._above = [0] * len(self.models)  # embeddings in a row above the cutoff, per word
        self._peaks = dict.fromkeys((model.wake_word for model in self.models), 0.0)
        self._heard_ms = 0.0
        self._quiet_until_ms = 0.0

    def process(self, pcm_s16le: bytes) -> WakeDetection | None:
        """Feed any amount of 16 kHz mono s16le; returns the first detection in it, if any."""
        self._heard_ms += len(pcm_s16le) / _BYTES_PER_MS
        detection: WakeDetection | None = None
        for embedding in self._features.process_streaming(pcm_s16le):
            for index, (model, detector) in enumerate(zip(self.models, self._detectors, strict=True)):
                for probability in detector.process_streaming(embedding):
                    if probability > self._peaks[model.wake_word]:
                        self._peaks[model.wake_word] = probability
                    self._above[index] = self._above[index] + 1 if probability > model.cutoff else 0
                    if (
                        self._above[index] >= TRIGGER_EMBEDDINGS
                        and detection is None
                        and self._heard_ms >= self._quiet_until_ms
                    ):
                        detection = WakeDetection(model.wake_word, float(probability), self._heard_ms)
                        self._quiet_until_ms = self._heard_ms + REFRACTORY_MS
        return detection

    def _new_detector(self, model: OwwModel) -> OpenWakeWord | OnnxWakeWord:
        if model.model_path.suffix == ".onnx":
            return OnnxWakeWord(model.model_path)
        return OpenWakeWord(
            model.wake_word, tflite_model=model.model_path, libtensorflowlite_c_path=self._library
        )

    def peak_scores(self) -> dict[str, float]:
        """The highest score of each word since the last call (then forgotten)."""
        peaks = {f"openwakeword:{word}": round(float(score), 4) for word, score in self._peaks.items()}
        for word in self._peaks:
            self._peaks[word] = 0.0
        return peaks

    def reset(self) -> None:
        self._features.reset()
        for detector in self._detectors:
            detector.reset()
        self._above = [0] * len(self.models)
        self._heard_ms = 0.0
        self._quiet_until_ms = 0.0


class OpenWake:
    """openWakeWord's okay_nabu, hey_jarvis, hey_mycroft, alexa and hey_rhasspy, plus custom `.tflite` models."""

    name = "openwakeword"

    def __init__(
        self,
        wake_words: Sequence[str],
        threshold: float | None,
        custom: Sequence[CustomWakeModel] = (),
    ) -> None:
        self._custom = {model.wake_word: model for model in custom if model.engine == self.name}
        known = (*BUILTIN_WAKE_WORDS, *self._custom)
        self.capabilities = WakeCapabilities(
            model="openWakeWord", sample_rate_hz=_SAMPLE_RATE_HZ, wake_words=known
        )
        self._threshold = threshold
        self.wake_words = check_known_wake_words(wake_words, known)
        self._library = _tensorflow_lite_library()
        self._frontend = (_bundled_path(_FRONTEND[0]), _bundled_path(_FRONTEND[1]))
        self._models: dict[str, OwwModel] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings.wake_words, settings.wake_threshold, custom_models(settings))

    async def warm_up(self) -> None:
        await asyncio.to_thread(self.create_stream().process, bytes(2 * _SAMPLE_RATE_HZ))

    def create_stream(
        self, wake_words: Sequence[str] | None = None, sensitivity: float | None = None
    ) -> OpenWakeStream:
        words = self.wake_words if wake_words is None else self.usable(wake_words)
        models = [self._with_sensitivity(self.model(word), sensitivity) for word in words]
        return OpenWakeStream(models, self._frontend, self._library)

    def usable(self, wake_words: Sequence[str]) -> tuple[str, ...]:
        return check_known_wake_words(wake_words, self.capabilities.wake_words)

    def model(self, wake_word: str) -> OwwModel:
        found = self._models.get(wake_word)
        if found is None:
            custom = self._custom.get(wake_word)
            path = custom.model_path if custom else _bundled_path(self.usable([wake_word])[0])
            default = custom.cutoff if custom and custom.cutoff is not None else DEFAULT_CUTOFF
            found = OwwModel(wake_word, path, default if self._threshold is None else self._threshold)
            self._models[wake_word] = found
        return found

    @staticmethod
    def _with_sensitivity(model: OwwModel, sensitivity: float | None) -> OwwModel:
        if sensitivity is None:
            return model
        return OwwModel(model.wake_word, model.model_path, sensitive_cutoff(model.cutoff, sensitivity))

    async def aclose(self) -> None:
        """Nothing shared to release: each stream's interpreters go with it."""
