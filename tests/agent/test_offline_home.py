"""Which service the offline agent calls for each kind of home command, on a scripted Home Assistant.

The REST API is an httpx MockTransport that serves fixed states and records each service call; the registry
(areas, aliases, exposure) is given as the WebSocket API would report it. The real core is in test_ha_areas.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from voxhub.agent.ha_registry import RegistryWatcher, parse_registry
from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.intents import IntentMatcher
from voxhub.agent.offline import OfflineAgent

STATES = [
    {"entity_id": "light.kitchen", "state": "off", "attributes": {"friendly_name": "Kitchen Light"}},
    {"entity_id": "light.pantry", "state": "off", "attributes": {"friendly_name": "Pantry Light"}},
    {"entity_id": "light.office", "state": "off", "attributes": {"friendly_name": "Office Light"}},
    {
        "entity_id": "cover.garage",
        "state": "closed",
        "attributes": {"friendly_name": "Garage Door", "device_class": "garage"},
    },
    {"entity_id": "cover.kitchen_blind", "state": "open", "attributes": {"friendly_name": "Kitchen Blind"}},
    {"entity_id": "fan.bedroom", "state": "on", "attributes": {"friendly_name": "Bedroom Fan"}},
    {"entity_id": "media_player.tv", "state": "playing", "attributes": {"friendly_name": "TV"}},
    {"entity_id": "climate.hall", "state": "heat", "attributes": {"friendly_name": "Thermostat"}},
]
AREAS = [
    {"area_id": "kitchen", "name": "Kitchen", "aliases": ["cookhouse"], "floor_id": "ground"},
    {"area_id": "office", "name": "Office", "aliases": [], "floor_id": "first"},
]
FLOORS = [{"floor_id": "ground", "name": "Ground Floor"}, {"floor_id": "first", "name": "First Floor"}]
ENTITIES = [
    {"entity_id": "light.kitchen", "area_id": "kitchen"},
    {"entity_id": "light.pantry", "device_id": "pantry-hub"},  # its area is its device's
    {"entity_id": "light.office", "area_id": "office"},
    {"entity_id": "cover.kitchen_blind", "area_id": "kitchen"},
    {"entity_id": "media_player.tv", "area_id": "office"},
]
DEVICES = [{"id": "pantry-hub", "area_id": "kitchen"}]
EXTENDED = {"media_player.tv": {"aliases": ["telly"]}}
EXPOSED = {"light.office": {"conversation": True}, "fan.bedroom": {"conversation": False}}


class ScriptedHomeAssistant:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/states":
            return httpx.Response(200, json=STATES)
        if request.url.path.startswith("/api/states/"):
            entity_id = request.url.path.rsplit("/", 1)[1]
            return httpx.Response(200, json=next(s for s in STATES if s["entity_id"] == entity_id))
        _, _, domain, service = request.url.path.strip("/").split("/")
        self.calls.append((f"{domain}.{service}", json.loads(request.content)))
        return httpx.Response(200, json=[])


@pytest.fixture
async def home() -> AsyncIterator[tuple[OfflineAgent, ScriptedHomeAssistant]]:
    scripted = ScriptedHomeAssistant()
    async with HomeAssistantClient(
        "http://ha.test", "token", transport=httpx.MockTransport(scripted)
    ) as client:
        watcher = RegistryWatcher(client.websocket_url, "token")
        watcher.registry = parse_registry(AREAS, FLOORS, DEVICES, ENTITIES, EXTENDED, EXPOSED)
        agent = OfflineAgent({"en": _english()}, client, registry=watcher)
        await agent.refresh_entities()
        yield agent, scripted


_MATCHERS: dict[str, IntentMatcher] = {}


def _english() -> IntentMatcher:
    if "en" not in _MATCHERS:
        matcher = IntentMatcher.load("en")
        assert matcher is not None
        _MATCHERS["en"] = matcher
    return _MATCHERS["en"]


async def _calls(home: tuple[OfflineAgent, ScriptedHomeAssistant], text: str, **kwargs: Any) -> list[Any]:
    agent, scripted = home
    scripted.calls.clear()
    reply = await agent.handle(text, **kwargs)
    assert reply is not None, text
    assert reply.success, reply.text
    return scripted.calls


async def test_an_area_means_the_lights_of_its_entities_and_of_its_devices(home: Any) -> None:
    calls = await _calls(home, "turn on the lights in the kitchen")

    assert calls == [("light.turn_on", {"entity_id": ["light.kitchen", "light.pantry"]})]


async def test_a_floor_means_the_lights_of_its_areas(home: Any) -> None:
    calls = await _calls(home, "turn off the lights on the first floor")

    assert calls == [("light.turn_off", {"entity_id": ["light.office"]})]


async def test_brightness_of_an_area(home: Any) -> None:
    calls = await _calls(home, "set the brightness in the kitchen to 40 percent")

    assert calls == [
        ("light.turn_on", {"entity_id": ["light.kitchen", "light.pantry"], "brightness_pct": 40.0})
    ]


async def test_a_colour(home: Any) -> None:
    calls = await _calls(home, "make the office light red")

    assert calls == [("light.turn_on", {"entity_id": ["light.office"], "color_name": "red"})]


async def test_a_garage_door_opens_by_its_class(home: Any) -> None:
    calls = await _calls(home, "open the garage door")

    assert calls == [("cover.open_cover", {"entity_id": ["cover.garage"]})]


async def test_a_cover_position(home: Any) -> None:
    calls = await _calls(home, "set the kitchen blind to 30%")

    assert calls == [("cover.set_cover_position", {"entity_id": ["cover.kitchen_blind"], "position": 30})]


async def test_a_thermostat_set_point(home: Any) -> None:
    calls = await _calls(home, "set the temperature to 21 degrees")

    assert calls == [("climate.set_temperature", {"entity_id": ["climate.hall"], "temperature": 21.0})]


async def test_media_by_an_alias(home: Any) -> None:
    calls = await _calls(home, "pause the telly")

    assert calls == [("media_player.media_pause", {"entity_id": ["media_player.tv"]})]


async def test_an_entity_hidden_from_assist_is_unknown(home: Any) -> None:
    agent, scripted = home

    reply = await agent.handle("set the bedroom fan to 50%")

    assert reply is not None
    assert not reply.success
    assert scripted.calls == []


async def test_a_sentence_naming_a_device_beats_one_naming_its_area(home: Any) -> None:
    calls = await _calls(home, "turn on the kitchen light")

    assert calls == [("light.turn_on", {"entity_id": ["light.kitchen"]})]


async def test_the_sessions_area_scopes_a_bare_command(home: Any) -> None:
    calls = await _calls(home, "turn off the lights", area="cookhouse")

    assert calls == [("light.turn_off", {"entity_id": ["light.kitchen", "light.pantry"]})]


async def test_a_polish_area_command_goes_through_the_same_matcher(home: Any) -> None:
    """Language-independent: Polish sentences, the same names and areas (h15lang does Polish end to end)."""
    agent, _ = home
    polish = IntentMatcher.load("pl")
    assert polish is not None
    polish.set_home(agent.home, agent.registry)

    found = polish.match("wyłącz światła w Office")

    assert found is not None
    assert (found.intent, found.slots.get("area"), found.slots.get("domain")) == (
        "HassTurnOff",
        "office",
        "light",
    )
