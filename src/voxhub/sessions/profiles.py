"""Listening profiles (seed 004): what starts a turn, and how the VAD is tuned, per session."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from voxhub.errors import InputError

Activation = Literal["vad", "wake_word", "push_to_talk"]
ACTIVATIONS: tuple[Activation, ...] = get_args(Activation)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_WAKE_WORD = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Seed 004 names wake words by their last word; voxhub's models are named by the whole phrase.
_SEED_WAKE_WORDS = {"jarvis": "hey_jarvis", "mycroft": "hey_mycroft", "nabu": "okay_nabu"}
_FLAT_KEYS = {
    "description",
    "activation",
    "vad_threshold",
    "min_speech_secs",
    "vad_start_secs",
    "vad_stop_secs",
    "wake_words",
    "wake_sensitivity",
    "follow_up_secs",
    "language",
}
# Seed 004 keys voxhub accepts but has no use for: the VAD engine is a server setting, and a voxhub
# session always listens.
_SEED_IGNORED = {
    "vad": {"detector_type", "enabled"},
    "wake_word": set(),
    "transcription": {"auto_start"},
}
_SEED_KEYS = {
    "vad": {"sensitivity", "min_speech_duration", "start_secs", "stop_secs"},
    "wake_word": {"enabled", "words", "timeout", "sensitivity"},
    "transcription": {"language"},
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A named listening profile; None in a VAD field means "use the setting"."""

    name: str
    description: str
    activation: Activation
    vad_threshold: float | None = None
    min_speech_secs: float | None = None
    vad_start_secs: float | None = None
    vad_stop_secs: float | None = None
    wake_words: tuple[str, ...] = ()
    wake_sensitivity: float | None = None  # 0 strict, 0.5 each model's own cutoff, 1 eager
    follow_up_secs: float = 30.0  # wake_word: how long after an answer the user may go on without it
    language: str | None = None
    builtin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "activation": self.activation,
            "vad_threshold": self.vad_threshold,
            "min_speech_secs": self.min_speech_secs,
            "vad_start_secs": self.vad_start_secs,
            "vad_stop_secs": self.vad_stop_secs,
            "wake_words": list(self.wake_words),
            "wake_sensitivity": self.wake_sensitivity,
            "follow_up_secs": self.follow_up_secs,
            "language": self.language,
            "builtin": self.builtin,
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Profile:
        """A custom profile from voxhub's flat shape (`to_dict`) or seed 004's nested one.

        Seed 004 shape: `{"description", "vad": {"sensitivity", "min_speech_duration"},
        "wake_word": {"enabled", "words", "timeout"}, "transcription": {"language"}}`. A VAD
        sensitivity s becomes `vad_threshold = 1 - s` clamped to [0.05, 0.95] (more sensitive means a
        lower speech-probability cutoff); `wake_word.enabled` selects wake-word activation; the seed's
        short wake words map to voxhub's models ("jarvis" -> "hey_jarvis", "mycroft" -> "hey_mycroft",
        "nabu" -> "okay_nabu"); `timeout` is the follow-up window.
        `wake_word.sensitivity` becomes `wake_sensitivity` (0 strict, 0.5 each model's own cutoff, 1 eager);
        `vad.detector_type`, `vad.enabled` and `transcription.auto_start` are accepted and ignored.
        """
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InputError(
                f"profile name {name!r} must be 1-64 letters, digits, '.', '_' or '-'", details={"name": name}
            )
        flat = _flatten(data)
        activation = flat.get("activation", "vad")
        if activation not in ACTIVATIONS:
            raise InputError(
                f"activation must be one of {', '.join(ACTIVATIONS)} (got {activation!r})",
                details={"field": "activation", "choices": list(ACTIVATIONS)},
            )
        wake_words = _wake_words(flat.get("wake_words"))
        if activation == "wake_word" and not wake_words:
            raise InputError(
                "a wake_word profile needs at least one wake word", details={"field": "wake_words"}
            )
        follow_up = _number(flat, "follow_up_secs", 0.0, 3600.0)
        return cls(
            name=name,
            description=_string(flat, "description", 500) or "",
            activation=activation,
            vad_threshold=_number(flat, "vad_threshold", 0.0, 1.0),
            min_speech_secs=_number(flat, "min_speech_secs", 0.0, 10.0),
            vad_start_secs=_number(flat, "vad_start_secs", 0.0, 5.0),
            vad_stop_secs=_number(flat, "vad_stop_secs", 0.0, 10.0),
            wake_words=wake_words,
            wake_sensitivity=_number(flat, "wake_sensitivity", 0.0, 1.0),
            follow_up_secs=30.0 if follow_up is None else follow_up,
            language=_string(flat, "language", 35),
        )


def _flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """Seed 004's nested sections moved into voxhub's flat fields; unknown keys raise InputError."""
    if not isinstance(data, Mapping):
        raise InputError("a profile must be a JSON object")
    flat: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in data.items():
        if key in _FLAT_KEYS or key == "name" or key == "builtin":
            flat[key] = value
        elif key in _SEED_KEYS:
            if not isinstance(value, Mapping):
                raise InputError(f"profile section {key!r} must be an object", details={"field": key})
            unknown += [f"{key}.{sub}" for sub in value if sub not in _SEED_KEYS[key] | _SEED_IGNORED[key]]
            flat.update(_seed_section(key, value))
        else:
            unknown.append(str(key))
    if unknown:
        raise InputError(f"unknown profile fields: {', '.join(unknown)}", details={"unknown": unknown})
    flat.pop("name", None)  # the URL names the profile
    flat.pop("builtin", None)  # only predefined profiles are built in
    return flat


def _seed_section(section: str, values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if section == "vad":
        if "sensitivity" in values:
            sensitivity = values["sensitivity"]
            if not _is_number(sensitivity) or not 0.0 <= sensitivity <= 1.0:
                raise InputError(
                    "vad.sensitivity must be a number from 0 to 1", details={"field": "vad.sensitivity"}
                )
            out["vad_threshold"] = round(min(0.95, max(0.05, 1.0 - sensitivity)), 6)
        for seed_key, key in (
            ("min_speech_duration", "min_speech_secs"),
            ("start_secs", "vad_start_secs"),
            ("stop_secs", "vad_stop_secs"),
        ):
            if seed_key in values:
                out[key] = values[seed_key]
    elif section == "wake_word":
        if values.get("enabled") is True:
            out["activation"] = "wake_word"
        words = values.get("words")
        if isinstance(words, list):
            out["wake_words"] = [
                _SEED_WAKE_WORDS.get(word, word) if isinstance(word, str) else word for word in words
            ]
        elif words is not None:
            out["wake_words"] = words
        if "timeout" in values:
            out["follow_up_secs"] = values["timeout"]
        if "sensitivity" in values:
            out["wake_sensitivity"] = values["sensitivity"]
    elif "language" in values:
        out["language"] = values["language"]
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(flat: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = flat.get(key)
    if value is None:
        return None
    if not _is_number(value) or not low <= value <= high:
        raise InputError(
            f"{key} must be a number from {low:g} to {high:g} (got {value!r})", details={"field": key}
        )
    return float(value)


def _string(flat: Mapping[str, Any], key: str, limit: int) -> str | None:
    value = flat.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InputError(f"{key} must be a string of at most {limit} characters", details={"field": key})
    return value.strip() or None


def _wake_words(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(
        isinstance(w, str) and _WAKE_WORD.fullmatch(w) for w in value
    ):
        raise InputError(
            "wake_words must be a list of model names such as 'hey_jarvis'", details={"field": "wake_words"}
        )
    return tuple(dict.fromkeys(value))


PREDEFINED: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="vad-triggered",
            description="Always listening: speech the VAD detects starts a turn.",
            activation="vad",
            builtin=True,
        ),
        Profile(
            name="wake-word",
            description="Listens after 'hey jarvis', then for 30 s of follow-up without it.",
            activation="wake_word",
            wake_words=("hey_jarvis",),
            follow_up_secs=30.0,
            builtin=True,
        ),
        Profile(
            name="push-to-talk",
            description="The client ends each utterance with audio_end.",
            activation="push_to_talk",
            builtin=True,
        ),
    )
}
DEFAULT_PROFILE = "vad-triggered"
