"""Outside English, the offline agent answers with Home Assistant's own response templates for the language."""

from __future__ import annotations

from voxhub.agent.intent_responses import localized_reply
from voxhub.agent.intents import supported_languages


def test_every_language_home_assistant_intents_ships_is_supported() -> None:
    assert {"en", "pl", "de", "fr", "nl"} <= set(supported_languages())


def test_a_polish_area_command_is_confirmed_with_home_assistants_polish_sentence() -> None:
    assert localized_reply("pl", "HassTurnOff", "lights_area", {"area": "Kuchnia"}) == (
        "Wyłączono światła w kuchnia"
    )


def test_a_named_device_uses_the_default_response() -> None:
    assert localized_reply("pl", "HassTurnOn", "default", {"name": "telewizor"}) == "Włączono telewizor"


def test_a_template_needing_what_voxhub_does_not_pass_leaves_the_reply_as_it_was() -> None:
    assert localized_reply("pl", "HassGetState", "default", {"name": "drzwi"}) is None
    assert localized_reply("pl", "NoSuchIntent", "default", {}) is None
