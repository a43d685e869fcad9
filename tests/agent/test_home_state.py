"""Questions about the home are answered from Home Assistant's state, never invented — against a real core."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.home_assistant import HomeAssistant
from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.offline import OfflineAgent

LIVING_ROOM = "sensor.living_room_temperature"


@pytest.fixture
async def client(home_assistant: HomeAssistant) -> AsyncIterator[HomeAssistantClient]:
    async with HomeAssistantClient(home_assistant.url, home_assistant.token) as client:
        yield client


@pytest.fixture
async def living_room_at_20(home_assistant: HomeAssistant) -> AsyncIterator[None]:
    """A living-room thermometer reading 20 °C (a state posted to Home Assistant's REST API)."""
    attributes = {"friendly_name": "Living Room Temperature", "unit_of_measurement": "°C"}
    async with home_assistant.http() as http:
        posted = await http.post(
            f"/api/states/{LIVING_ROOM}",
            json={"state": "20", "attributes": {**attributes, "device_class": "temperature"}},
        )
        posted.raise_for_status()
        yield
        await http.delete(f"/api/states/{LIVING_ROOM}")


@pytest.mark.usefixtures("living_room_at_20")
async def test_a_rooms_temperature_is_read_from_home_assistant(client: HomeAssistantClient) -> None:
    agent = await OfflineAgent.load(client)

    reply = await agent.handle("What's the temperature in the living room?")

    assert reply is not None
    assert reply.text == "The Living Room Temperature reads 20 °C."
    assert reply.slots["name"] == LIVING_ROOM


async def test_a_room_with_no_thermometer_is_said_to_have_none(client: HomeAssistantClient) -> None:
    agent = await OfflineAgent.load(client)

    reply = await agent.handle("How warm is it in the bedroom?")

    assert reply is not None
    assert reply.text == "Home Assistant has no temperature sensor in the bedroom."
    assert not reply.success


async def test_a_device_home_assistant_does_not_have_is_named_not_invented(
    client: HomeAssistantClient,
) -> None:
    agent = await OfflineAgent.load(client)

    reply = await agent.handle("Is the back door locked?")

    assert reply is not None
    assert reply.text == "I don't know a device called back door."
    assert reply.error is not None
    assert reply.error.code == "unknown_entity"


async def test_lights_asked_about_by_room_are_read_from_home_assistant(
    client: HomeAssistantClient, home_assistant: HomeAssistant
) -> None:
    await home_assistant.call_service("light", "turn_on", entity_id="light.kitchen_light")
    assert await home_assistant.wait_for_state("light.kitchen_light", "on") == "on"
    agent = await OfflineAgent.load(client)

    reply = await agent.handle("Are the lights on in the kitchen?")

    assert reply is not None
    assert reply.text == "Yes, the Kitchen Light is on."
