"""Custom profiles in voxhub's flat shape or seed 004's nested shape."""

from __future__ import annotations

import pytest

from voxhub.errors import InputError
from voxhub.sessions import Profile


def test_the_seed_004_custom_profile_example_is_accepted() -> None:
    seed = {
        "description": "High sensitivity for noisy environments",
        "vad": {"sensitivity": 0.8, "min_speech_duration": 0.5},
        "transcription": {"language": "en"},
    }

    profile = Profile.from_dict("noisy-env", seed)

    assert profile.activation == "vad"
    assert (profile.vad_threshold, profile.min_speech_secs, profile.language) == (0.2, 0.5, "en")
    assert profile.description == "High sensitivity for noisy environments"


def test_the_seed_004_wake_word_profile_maps_to_voxhub_wake_words() -> None:
    seed = {
        "description": "Wake word activated - say 'jarvis' to start listening",
        "transcription": {"auto_start": False},
        "vad": {"detector_type": "combined", "sensitivity": 0.6, "enabled": True},
        "wake_word": {"enabled": True, "words": ["jarvis"], "sensitivity": 0.7, "timeout": 30},
    }

    profile = Profile.from_dict("my-wake", seed)

    assert (profile.activation, profile.wake_words, profile.follow_up_secs) == (
        "wake_word",
        ("hey_jarvis",),
        30.0,
    )
    assert profile.vad_threshold == pytest.approx(0.4)
    assert profile.wake_sensitivity == pytest.approx(0.7)


def test_an_extreme_seed_sensitivity_is_clamped() -> None:
    assert Profile.from_dict("deaf", {"vad": {"sensitivity": 0.0}}).vad_threshold == 0.95


def test_a_profile_round_trips_through_its_flat_shape() -> None:
    profile = Profile.from_dict(
        "ptt-fr", {"activation": "push_to_talk", "language": "fr", "vad_stop_secs": 0.8}
    )

    assert Profile.from_dict("ptt-fr", profile.to_dict()) == profile


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"vad": {"sensitivty": 0.5}}, "unknown profile fields: vad.sensitivty"),
        ({"activation": "clap"}, "activation must be one of"),
        ({"activation": "wake_word"}, "needs at least one wake word"),
        ({"vad_threshold": 1.5}, "vad_threshold must be a number from 0 to 1"),
    ],
)
def test_a_malformed_profile_is_rejected(data: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Profile.from_dict("custom", data)
