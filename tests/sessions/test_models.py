"""Mode flags and session config overrides, validated the way HTTP bodies and query strings arrive."""

from __future__ import annotations

import pytest

from voxhub.errors import InputError
from voxhub.sessions import Mode, SessionConfig


def test_mode_flags_accept_query_string_words() -> None:
    mode = Mode.from_flags(
        {"voice_input": "no", "text_input": "YES", "voice_output": "0", "text_output": "on"}
    )

    assert mode == Mode(voice_input=False, text_input=True, voice_output=False, text_output=True)


def test_mode_flags_apply_over_a_base_mode() -> None:
    text_only = Mode(voice_input=False, voice_output=False)

    assert Mode.from_flags({"voice_output": True}, base=text_only).to_dict() == {
        "voice_input": False,
        "text_input": True,
        "voice_output": True,
        "text_output": True,
    }


def test_unknown_mode_flags_are_named_in_the_error() -> None:
    with pytest.raises(InputError, match="unknown mode flags: video_input"):
        Mode.from_flags({"video_input": True, "voice_input": False})


def test_a_mode_flag_that_is_not_a_boolean_is_rejected() -> None:
    with pytest.raises(InputError, match="'voice_output' must be true or false"):
        Mode.from_flags({"voice_output": "maybe"})


def test_a_mode_needs_an_input_and_an_output() -> None:
    with pytest.raises(InputError, match="at least one input and one output"):
        Mode.from_flags({"voice_output": False, "text_output": "false"})


def test_session_config_rejects_unknown_settings() -> None:
    with pytest.raises(InputError, match="unknown session settings: temperature"):
        SessionConfig().updated({"temperature": 2})


def test_session_config_round_trips_through_a_dict() -> None:
    config = SessionConfig(system_prompt="Be brief.", stt_engine="whisper", mode=Mode(text_output=False))

    assert SessionConfig.from_dict(config.to_dict()) == config
