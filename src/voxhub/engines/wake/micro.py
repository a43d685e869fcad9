"""microWakeWord (pymicro-wakeword): streaming TFLite wake-word models over 10 ms audio features."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

from voxhub.engines.wake.base import (
    WakeCapabilities,
    WakeDetection,
    check_known_wake_words,
    sensitive_cutoff,
)
from voxhub.engines.wake.custom import CustomWakeModel, custom_models
from voxhub.errors import ModelError
from voxhub.models import store
from voxhub.models.catalog import BUNDLED

if TYPE_CHECKING:
    from voxhub.config import Settings

_MODEL = "micro-wakeword"
_SAMPLE_RATE_HZ = 16000
_FEATURE_STEP_MS = 10.0  # one feature vector per 10 ms of audio
_FEATURE_WINDOW_MS = 30.0  # ... computed over the last 30 ms, so the first one ends 30 ms in
# One utterance keeps the averaged probability above the cutoff for a few features; this much audio
# after a detection cannot fire again.
REFRACTORY_MS = 1000.0
KNOWN_WAKE_WORDS: tuple[str, ...] = tuple(
    Path(file.path).stem for file in BUNDLED[_MODEL].files if file.path.endswith(".tflite")
)


@dataclass(frozen=True, slots=True)
class WakeModel:
    """One verified microWakeWord model and how it is scored."""

    wake_word: str  # e.g. okay_nabu
    phrase: str  # e.g. Okay Nabu
    tflite_path: Path
    cutoff: float  # detection when the averaged probability is above this
    sliding_window_size: int
    trained_languages: tuple[str, ...]


def check_wake_words(wake_words: Sequence[str]) -> tuple[str, ...]:
    """`wake_words` if each is a bundled model, else a ConfigError naming the setting and the choices."""
    return check_known_wake_words(wake_words, KNOWN_WAKE_WORDS)


def _tensorflow_lite_library() -> Path:
    root = store.package_dir("pymicro_wakeword")
    found = next(iter(sorted((root / "lib").glob("*tensorflowlite_c.*"))), None) if root else None
    if found is None:
        raise ModelError(
            "pymicro-wakeword's TensorFlow Lite library is missing; "
            "reinstall it: `pip install --force-reinstall --no-deps pymicro-wakeword`"
        )
    return found


def _load_wake_model(wake_word: str, threshold: float | None) -> WakeModel:
    (file,) = (file for file in BUNDLED[_MODEL].files if Path(file.path).stem == wake_word)
    tflite_path = store.bundled_file(_MODEL, file)
    try:
        config = json.loads(tflite_path.with_suffix(".json").read_text(encoding="utf-8"))
        micro = config["micro"]
        return WakeModel(
            wake_word=wake_word,
            phrase=str(config["wake_word"]),
            tflite_path=tflite_path,
            cutoff=float(micro["probability_cutoff"]) if threshold is None else threshold,
            sliding_window_size=int(micro["sliding_window_size"]),
            trained_languages=tuple(config.get("trained_languages", ())),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"the settings of wake word {wake_word!r} are unreadable ({tflite_path.with_suffix('.json')}): "
            f"{exc}; reinstall pymicro-wakeword"
        ) from exc


class MicroWakeStream:
    """One session's wake-word state: a feature frontend shared by its words, and one interpreter per word."""

    def __init__(self, models: Sequence[WakeModel], library: Path) -> None:
        self.models = tuple(models)
        self._library = library
        self._features = MicroWakeWordFeatures()
        # A MicroWakeWord keeps the interpreter's streaming state, so instances are never shared.
        self._detectors = [self._new_detector(model) for model in self.models]
        self._feature_count = 0
        self._quiet_until_ms = 0.0
        self._peaks = [0.0] * len(self.models)

    def process(self, pcm_s16le: bytes) -> WakeDetection | None:
        """Feed any amount of 16 kHz mono s16le; returns the first detection in it, if any.

        One call reports at most one detection, so feed live audio in small chunks (10-100 ms).
        """
        detection: WakeDetection | None = None
        for features in self._features.process_streaming(pcm_s16le):
            end_ms = _FEATURE_WINDOW_MS + self._feature_count * _FEATURE_STEP_MS
            self._feature_count += 1
            fired: WakeModel | None = None
            confidence = 0.0
            for index, (model, detector) in enumerate(zip(self.models, self._detectors, strict=True)):
                # Every detector hears every feature, even while quiet, so its streaming state stays whole.
                probability = detector.process_streaming_prob(features)
                if probability is None:
                    continue
                if probability > self._peaks[index]:
                    self._peaks[index] = probability
                if probability > model.cutoff and probability > confidence:
                    fired, confidence = model, float(probability)
            if fired is not None and detection is None and end_ms >= self._quiet_until_ms:
                detection = WakeDetection(fired.wake_word, confidence, end_ms)
                self._quiet_until_ms = end_ms + REFRACTORY_MS
        return detection

    def peak_scores(self) -> dict[str, float]:
        """The highest averaged probability of each word since the last call (then forgotten)."""
        peaks = {
            f"micro:{m.wake_word}": round(float(p), 4) for m, p in zip(self.models, self._peaks, strict=True)
        }
        self._peaks = [0.0] * len(self.models)
        return peaks

    def reset(self) -> None:
        """Forget all audio: the frontend, every interpreter's state and the refractory period."""
        self._features.reset()
        for detector in self._detectors:
            detector.reset()  # reloads the interpreter (~0.3 ms), the only way to clear its state
        self._feature_count = 0
        self._quiet_until_ms = 0.0

    def _new_detector(self, model: WakeModel) -> Any:
        return MicroWakeWord(
            model.wake_word,
            wake_word=model.phrase,
            tflite_model=model.tflite_path,
            probability_cutoff=model.cutoff,
            sliding_window_size=model.sliding_window_size,
            trained_languages=list(model.trained_languages),
            libtensorflowlite_c_path=self._library,
        )


class MicroWake:
    """microWakeWord's okay_nabu, hey_jarvis, hey_mycroft and alexa, each verified against its sha256.

    The engine keeps only verified model descriptions; each stream builds its own interpreters (about
    0.3 ms a word), because they carry streaming state.
    """

    name = "micro"

    def __init__(
        self, wake_words: Sequence[str], threshold: float | None, custom: Sequence[CustomWakeModel] = ()
    ) -> None:
        self._custom = {model.wake_word: model for model in custom if model.engine == self.name}
        self.capabilities = WakeCapabilities(
            model="microWakeWord",
            sample_rate_hz=_SAMPLE_RATE_HZ,
            wake_words=(*KNOWN_WAKE_WORDS, *self._custom),
        )
        self._threshold = threshold
        self.wake_words = self.usable(wake_words)
        self._library = _tensorflow_lite_library()
        self._models = {word: self._load(word) for word in self.wake_words}

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(settings.wake_words, settings.wake_threshold, custom_models(settings))

    def usable(self, wake_words: Sequence[str]) -> tuple[str, ...]:
        """`wake_words` if this engine has each of them, else a ConfigError naming the choices."""
        return check_known_wake_words(wake_words, self.capabilities.wake_words)

    def _load(self, wake_word: str) -> WakeModel:
        custom = self._custom.get(wake_word)
        if custom is None:
            return _load_wake_model(wake_word, self._threshold)
        return WakeModel(
            wake_word=wake_word,
            phrase=custom.phrase,
            tflite_path=custom.model_path,
            cutoff=self._threshold if self._threshold is not None else (custom.cutoff or 0.5),
            sliding_window_size=custom.sliding_window_size,
            trained_languages=custom.trained_languages,
        )

    async def warm_up(self) -> None:
        """Run a second of silence through a stream, so the library and models are loaded and paged in."""
        await asyncio.to_thread(self.create_stream().process, bytes(2 * _SAMPLE_RATE_HZ))

    def create_stream(
        self, wake_words: Sequence[str] | None = None, sensitivity: float | None = None
    ) -> MicroWakeStream:
        words = self.wake_words if wake_words is None else self.usable(wake_words)
        models = [self.model(word) for word in words]
        if sensitivity is not None:
            models = [replace(model, cutoff=sensitive_cutoff(model.cutoff, sensitivity)) for model in models]
        return MicroWakeStream(models, self._library)

    def model(self, wake_word: str) -> WakeModel:
        """The verified model of `wake_word` (loaded on first use if it was not configured)."""
        found = self._models.get(wake_word)
        if found is None:
            found = self._models[wake_word] = self._load(self.usable([wake_word])[0])
        return found

    async def aclose(self) -> None:
        """Nothing shared to release: each stream's interpreters go with it."""
