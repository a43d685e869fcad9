"""Wake-word models a user adds by file (`wake_custom_models`): which engine reads each, and its settings.

- `name.tflite` with a microWakeWord `name.json` beside it (a `"micro"` section with `probability_cutoff`
  and `sliding_window_size`, as microWakeWord's trainer writes it) is a `micro` model;
- any other `name.tflite` or `name.onnx` is an openWakeWord classifier; an optional `name.json` may give
  `{"threshold": 0.5}`.

The word is called by the file's stem (`hey_computer.tflite` → `hey_computer`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from voxhub.config import env_name
from voxhub.errors import ConfigError

if TYPE_CHECKING:
    from voxhub.config import Settings

_WORD = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class CustomWakeModel:
    wake_word: str
    engine: Literal["micro", "openwakeword"]
    model_path: Path
    cutoff: float | None  # None: the engine's default
    phrase: str = ""
    sliding_window_size: int = 5
    trained_languages: tuple[str, ...] = ()


def _problem(path: Path, message: str) -> ConfigError:
    return ConfigError(
        f"wake_custom_models ({env_name('wake_custom_models')}): {path}: {message}",
        details={"setting": "wake_custom_models", "path": str(path)},
    )


def read_custom_model(path: Path) -> CustomWakeModel:
    """The model at `path`, checked: it exists, is a `.tflite`/`.onnx`, and its config is readable."""
    path = path.expanduser()
    if path.suffix not in (".tflite", ".onnx"):
        raise _problem(path, "a wake-word model must be a .tflite or .onnx file")
    if not path.is_file():
        raise _problem(path, "no such file")
    word = path.stem.lower()
    if not _WORD.fullmatch(word):
        raise _problem(path, "the file name must be a word id: lower-case letters, digits and '_'")
    config: dict[str, Any] = {}
    config_path = path.with_suffix(".json")
    if config_path.is_file():
        try:
            loaded = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise _problem(config_path, f"unreadable config: {exc}") from exc
        if not isinstance(loaded, dict):
            raise _problem(config_path, "the config must be a JSON object")
        config = loaded
    try:
        micro = config.get("micro")
        if path.suffix == ".tflite" and isinstance(micro, dict):
            return CustomWakeModel(
                wake_word=word,
                engine="micro",
                model_path=path,
                cutoff=float(micro["probability_cutoff"]),
                phrase=str(config.get("wake_word", word.replace("_", " ").title())),
                sliding_window_size=int(micro["sliding_window_size"]),
                trained_languages=tuple(str(lang) for lang in config.get("trained_languages", ())),
            )
        threshold = config.get("threshold")
        return CustomWakeModel(
            wake_word=word,
            engine="openwakeword",
            model_path=path,
            cutoff=None if threshold is None else float(threshold),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _problem(config_path, f"config is missing or has a wrong {exc}") from exc


def custom_models(settings: Settings) -> tuple[CustomWakeModel, ...]:
    return tuple(read_custom_model(Path(path)) for path in settings.wake_custom_models)
