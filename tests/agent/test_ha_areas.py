"""Areas, aliases and Assist exposure from Home Assistant's registries, used the way Assist uses them —
against a real Home Assistant core (`tests/home_assistant.py`, furnished with `AREAS` and `PLACES`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from tests.api.live import free_port, live_server
from tests.doubles.openai_server import running_double
from tests.home_assistant import HomeAssistant
from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.offline import OfflineAgent
from voxhub.agent.session_timers import HomeAssistantNotifier
from voxhub.agent.tools.timers import Timer
from voxhub.config import Settings
from voxhub.engines.loader import Engines
from voxhub.engines.pool import EnginePool

KITCHEN_LIGHT = "light.kitchen_light"
CEILING = "light.kitchen_ceiling"
LAMP = "light.living_room_lamp"
BEDROOM = "light.bedroom_light"
FRONT_DOOR = "lock.front_door"
TEXT_ONLY = {"voice_input": False, "text_input": True, "voice_output": False, "text_output": True}

pytestmark = pytest.mark.slow


@pytest.fixture
async def client(home_assistant: HomeAssistant) -> AsyncIterator[HomeAssistantClient]:
    await home_assistant.furnish()
    async with HomeAssistantClient(home_assistant.url, home_assistant.token) as client:
        yield client


@pytest.fixture
async def agent(client: HomeAssistantClient) -> AsyncIterator[OfflineAgent]:
    agent = await OfflineAgent.load(client)
    yield agent
    await agent.aclose()


async def _all(client: HomeAssistantClient, service: str, *entity_ids: str) -> None:
    await client.call_service("light", service, {"entity_id": list(entity_ids)})


async def test_areas_and_their_aliases_come_from_home_assistants_registry(agent: OfflineAgent) -> None:
    registry = agent.registry

    assert registry is not None
    assert registry.areas["kitchen"].name == "Kitchen"
    assert registry.areas["kitchen"].aliases == ("cookhouse",)
    ceiling = next(e for e in agent.home if e.entity_id == CEILING)
    assert (ceiling.area, ceiling.names) == ("Kitchen", ("Ceiling", "big light", "kitchen ceiling"))


async def test_an_area_command_switches_every_light_in_that_area_and_no_other(
    agent: OfflineAgent, client: HomeAssistantClient
) -> None:
    await _all(client, "turn_on", KITCHEN_LIGHT, CEILING, LAMP)

    reply = await agent.handle("Turn off all the lights in the kitchen")

    assert reply is not None
    assert reply.text == "Turned off the Kitchen Light and the Ceiling."
    assert [(await client.state(e)).state for e in (KITCHEN_LIGHT, CEILING, LAMP)] == ["off", "off", "on"]


async def test_kitchen_lights_off_is_an_area_command_too(
    agent: OfflineAgent, client: HomeAssistantClient
) -> None:
    await _all(client, "turn_on", KITCHEN_LIGHT, CEILING)

    reply = await agent.handle("kitchen lights off")

    assert reply is not None
    assert sorted(reply.slots["name"]) == [CEILING, KITCHEN_LIGHT]
    assert [(await client.state(e)).state for e in (KITCHEN_LIGHT, CEILING)] == ["off", "off"]


async def test_an_area_alias_names_the_area(agent: OfflineAgent, client: HomeAssistantClient) -> None:
    await _all(client, "turn_off", LAMP)

    reply = await agent.handle("turn on the lights in the lounge")

    assert reply is not None
    assert reply.text == "Turned on the Living Room Lamp."
    assert (await client.state(LAMP)).state == "on"


async def test_the_lights_said_to_a_satellite_mean_the_lights_of_its_area(
    agent: OfflineAgent, client: HomeAssistantClient
) -> None:
    await _all(client, "turn_on", KITCHEN_LIGHT, CEILING, LAMP)

    reply = await agent.handle("turn off the lights", area="Living Room")

    assert reply is not None
    assert reply.text == "Turned off the Living Room Lamp."
    assert [(await client.state(e)).state for e in (KITCHEN_LIGHT, CEILING, LAMP)] == ["on", "on", "off"]


async def test_an_entity_alias_names_the_device(agent: OfflineAgent, client: HomeAssistantClient) -> None:
    await _all(client, "turn_off", CEILING)

    reply = await agent.handle("turn on the big light")

    assert reply is not None
    assert reply.text == "Turned on the Ceiling."
    assert (await client.state(CEILING)).state == "on"


async def test_an_entity_hidden_from_assist_is_never_touched(
    agent: OfflineAgent, client: HomeAssistantClient
) -> None:
    await _all(client, "turn_off", BEDROOM)

    by_area = await agent.handle("turn on the lights in the bedroom")
    by_name = await agent.handle("turn on the bedroom light")

    assert by_area is not None
    assert by_area.text == "I don't see any lights in the Bedroom."
    assert by_name is not None
    assert not by_name.success
    assert (await client.state(BEDROOM)).state == "off"
    assert BEDROOM not in agent.entities


async def test_is_the_front_door_locked_is_answered_from_its_state(
    agent: OfflineAgent, client: HomeAssistantClient
) -> None:
    await client.call_service("lock", "unlock", {"entity_id": FRONT_DOOR})

    unlocked = await agent.handle("is the front door locked")
    await agent.handle("lock the front door")
    locked = await agent.handle("is the front door locked?")

    assert unlocked is not None
    assert unlocked.text == "No, the Front Door is unlocked."
    assert locked is not None
    assert locked.text == "Yes, the Front Door is locked."
    assert (await client.state(FRONT_DOOR)).state == "locked"


async def test_an_areas_temperature_is_read_from_its_thermometer(agent: OfflineAgent) -> None:
    reply = await agent.handle("what's the temperature in the kitchen")

    assert reply is not None
    assert reply.text == "The Kitchen Thermometer reads 21.5 °C."
    assert reply.slots["temperature"] == ["21.5"]


async def test_a_new_alias_is_heard_once_home_assistant_reports_the_change(
    agent: OfflineAgent, client: HomeAssistantClient, home_assistant: HomeAssistant
) -> None:
    await _all(client, "turn_off", LAMP)
    try:
        await home_assistant.ws_command(
            "config/entity_registry/update", entity_id=LAMP, aliases=["reading lamp"]
        )
        await agent.wait_for_home(
            lambda agent: any("reading lamp" in e.names for e in agent.home if e.entity_id == LAMP)
        )

        reply = await agent.handle("turn on the reading lamp")
    finally:
        await home_assistant.ws_command("config/entity_registry/update", entity_id=LAMP, aliases=[])

    assert reply is not None
    assert reply.text == "Turned on the Living Room Lamp."


async def test_exposing_an_entity_to_assist_is_heard_without_a_restart(
    agent: OfflineAgent, home_assistant: HomeAssistant
) -> None:
    expose = {"assistants": ["conversation"], "entity_ids": [BEDROOM]}
    try:
        await home_assistant.ws_command("homeassistant/expose_entity", **expose, should_expose=True)
        await agent.wait_for_home(lambda agent: BEDROOM in agent.entities)
        exposed = await agent.handle("turn off the lights in the bedroom")
    finally:
        await home_assistant.ws_command("homeassistant/expose_entity", **expose, should_expose=False)
    await agent.wait_for_home(lambda agent: BEDROOM not in agent.entities)

    assert exposed is not None
    assert exposed.text == "Turned off the Bedroom Light."


@pytest.fixture
async def unreachable() -> AsyncIterator[HomeAssistantClient]:
    """A client pointed at a port nothing listens on: Home Assistant is down."""
    async with HomeAssistantClient(f"http://127.0.0.1:{free_port()}", "any-token", timeout_secs=2) as client:
        yield client


async def test_an_area_command_with_home_assistant_down_says_so(unreachable: HomeAssistantClient) -> None:
    agent = await OfflineAgent.load(unreachable)
    try:
        reply = await agent.handle("turn off all the lights in the kitchen")
    finally:
        await agent.aclose()

    assert reply is not None
    assert reply.text == "I can't reach Home Assistant right now."
    assert not reply.success


async def test_a_sessions_area_scopes_the_lights_end_to_end(
    session_settings: Settings,
    engine_pool: EnginePool,
    home_assistant: HomeAssistant,
    client: HomeAssistantClient,
    tmp_path: Path,
) -> None:
    await _all(client, "turn_on", KITCHEN_LIGHT, CEILING, LAMP)
    double = running_double().reset()  # the LLM: it must not be asked
    settings = session_settings.model_copy(
        update={
            "llm_engine": "openai",
            "openai_base_url": double.base_url,
            "homeassistant_url": home_assistant.url,
            "homeassistant_token": SecretStr(home_assistant.token),
            "data_dir": tmp_path / "data",
        }
    )
    shared = Engines(**{stage: await engine_pool.get(stage) for stage in ("vad", "stt", "tts", "wake")})
    async with (
        live_server(settings, EnginePool(settings, shared)) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        created = await http.post("/api/v1/sessions", json={"mode": TEXT_ONLY, "area": "Kitchen"})
        session = created.json()["id"]
        answer = await http.post(f"/api/v1/sessions/{session}/text", json={"text": "turn off the lights"})

    assert answer.json()["text"] == "Turned off the Kitchen Light and the Ceiling."
    assert [(await client.state(e)).state for e in (KITCHEN_LIGHT, CEILING, LAMP)] == ["off", "off", "on"]
    assert double.state.chat_requests == []


async def test_a_finished_timer_can_ring_as_a_home_assistant_notification(
    client: HomeAssistantClient, home_assistant: HomeAssistant
) -> None:
    notify = HomeAssistantNotifier(client, "persistent_notification.create")

    await notify(Timer("7", "roast chicken", 2700.0, 0.0))

    async with home_assistant.websocket() as socket:
        shown = await socket.command("persistent_notification/get")
    assert {
        "notification_id": "voxhub_timer_7",
        "message": "Your roast chicken timer is done.",
    }.items() <= next(n for n in shown if n["notification_id"] == "voxhub_timer_7").items()
