"""The device list Extended OpenAI Conversation puts in its prompt, and the calls made from it."""

from __future__ import annotations

import json

from tests.protocols.eoc import SYSTEM_PROMPT
from voxhub.agent.client_commands import ListedEntity, confirmation, listed_entities, service_calls
from voxhub.agent.intents import IntentMatch
from voxhub.engines.llm.base import ChatMessage, ToolCall


def test_the_csv_in_eocs_prompt_lists_the_devices_with_their_aliases() -> None:
    entities = listed_entities([ChatMessage("system", SYSTEM_PROMPT)])

    assert [e.entity_id for e in entities] == [
        "light.kitchen",
        "light.living_room",
        "switch.coffee_maker",
        "cover.garage_door",
    ]
    assert entities[1] == ListedEntity(
        "light.living_room", "Living Room Lamp", "on", ("Big lamp", "Sofa light")
    )


def test_a_name_with_a_comma_stays_whole() -> None:
    prompt = "Available Devices:\n```csv\nentity_id,name,state,aliases\nlight.desk,Desk, left,off,\n```\n"

    assert listed_entities([ChatMessage("system", prompt)]) == [
        ListedEntity("light.desk", "Desk, left", "off")
    ]


def test_turning_on_a_cover_opens_it() -> None:
    entities = listed_entities([ChatMessage("system", SYSTEM_PROMPT)])

    calls = service_calls(IntentMatch("HassTurnOn", {"name": "cover.garage_door"}), entities)

    assert calls == [
        {"domain": "cover", "service": "open_cover", "service_data": {"entity_id": "cover.garage_door"}}
    ]


def test_the_confirmation_names_every_device_the_call_changed() -> None:
    entities = listed_entities([ChatMessage("system", SYSTEM_PROMPT)])
    arguments = {
        "list": [
            {"domain": "light", "service": "turn_off", "service_data": {"entity_id": "light.kitchen"}},
            {"domain": "light", "service": "turn_off", "service_data": {"entity_id": "light.living_room"}},
        ]
    }
    call = ToolCall("call_1", "execute_services", json.dumps(arguments))

    said = confirmation([call], [ChatMessage("tool", "[{'success': True}, {'success': True}]")], entities)

    assert said == "Turned off the Kitchen Light and turned off the Living Room Lamp."
