"""A Realtime `session.update` is read as OpenAI documents it: wrong types are refused, never coerced."""

from __future__ import annotations

import pytest

from voxhub.protocols.realtime_events import InvalidEvent, RealtimeConfig, updated_config


@pytest.mark.parametrize(
    "session",
    [
        {"instructions": 5},
        {"voice": 5},
        {"audio": {"output": {"voice": ["alloy"]}}},
        {"instructions": {"x": 1}},
    ],
)
def test_a_field_of_the_wrong_type_is_an_invalid_event_naming_it(session: dict[str, object]) -> None:
    with pytest.raises(InvalidEvent) as refused:
        updated_config(RealtimeConfig(), session)

    assert refused.value.details["param"] in session or "voice" in refused.value.message


def test_strings_set_the_instructions_and_the_voice() -> None:
    config = updated_config(
        RealtimeConfig(), {"instructions": "Be brief.", "audio": {"output": {"voice": "en"}}}
    )

    assert (config.instructions, config.voice) == ("Be brief.", "en")
