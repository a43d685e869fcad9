"""Home Assistant through voxhub's client, tools and offline agent — against a real Home Assistant core."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.api.live import free_port
from tests.home_assistant import HomeAssistant
from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.offline import OfflineAgent
from voxhub.agent.tools.base import Tool, ToolError
from voxhub.agent.tools.homeassistant import exposed_entities_prompt, homeassistant_tools

KITCHEN = "light.kitchen_light"


def tool(client: HomeAssistantClient, name: str) -> Tool:
    return next(t for t in homeassistant_tools(client) if t.spec.name == name)


@pytest.fixture
async def client(home_assistant: HomeAssistant) -> AsyncIterator[HomeAssistantClient]:
    async with HomeAssistantClient(home_assistant.url, home_assistant.token) as client:
        yield client


@pytest.fixture
async def kitchen_off(client: HomeAssistantClient) -> None:
    """The kitchen light starts each story switched off."""
    await client.call_service("light", "turn_off", {"entity_id": KITCHEN})


@pytest.fixture
async def unreachable() -> AsyncIterator[HomeAssistantClient]:
    """A client pointed at a port nothing listens on: Home Assistant is down."""
    async with HomeAssistantClient(f"http://127.0.0.1:{free_port()}", "any-token", timeout_secs=2) as client:
        yield client


async def test_a_tool_call_says_home_assistant_is_unreachable_when_it_is_down(
    unreachable: HomeAssistantClient,
) -> None:
    with pytest.raises(ToolError) as failure:
        await tool(unreachable, "get_state").call({"entity_id": KITCHEN})

    assert failure.value.spoken == "I can't reach Home Assistant right now."
    assert failure.value.code == "homeassistant_unavailable"


async def test_the_offline_agent_says_home_assistant_is_unreachable_when_it_is_down(
    unreachable: HomeAssistantClient,
) -> None:
    agent = await OfflineAgent.load(unreachable)

    reply = await agent.handle("turn on the kitchen light")

    assert reply is not None
    assert reply.text == "I can't reach Home Assistant right now."
    assert not reply.success
    assert reply.error is not None
    assert reply.error.code == "homeassistant_unavailable"


@pytest.mark.slow
@pytest.mark.usefixtures("kitchen_off")
async def test_the_offline_agent_turns_on_the_kitchen_light_with_no_language_model(
    client: HomeAssistantClient,
) -> None:
    agent = await OfflineAgent.load(client)

    reply = await agent.handle("turn on the kitchen light")

    assert reply is not None
    assert reply.text == "Turned on the Kitchen Light."
    assert reply.success
    assert (await client.state(KITCHEN)).state == "on"


@pytest.mark.slow
async def test_execute_services_turns_the_kitchen_light_off(client: HomeAssistantClient) -> None:
    await client.call_service("light", "turn_on", {"entity_id": KITCHEN})

    call = {"domain": "light", "service": "turn_off", "service_data": {"entity_id": KITCHEN}}
    result = await tool(client, "execute_services").call({"list": [call]})

    assert '"success": true' in result.content
    assert (await client.state(KITCHEN)).state == "off"


@pytest.mark.slow
@pytest.mark.usefixtures("kitchen_off")
async def test_get_state_reads_the_kitchen_light(client: HomeAssistantClient) -> None:
    result = await tool(client, "get_state").call({"entity_id": KITCHEN})

    assert result.data["state"] == "off"
    assert result.data["attributes"]["friendly_name"] == "Kitchen Light"


@pytest.mark.slow
async def test_render_template_renders_inside_home_assistant(client: HomeAssistantClient) -> None:
    result = await tool(client, "render_template").call({"template": "{{ 6 * 7 }}"})

    assert result.content == "42"


@pytest.mark.slow
@pytest.mark.usefixtures("kitchen_off")
async def test_the_system_prompt_lists_the_kitchen_light(client: HomeAssistantClient) -> None:
    prompt = exposed_entities_prompt(await client.states())

    assert "entity_id,name,state,aliases\n" in prompt
    assert "light.kitchen_light,Kitchen Light,off,\n" in prompt


@pytest.mark.slow
async def test_a_wrong_token_is_refused_clearly(home_assistant: HomeAssistant) -> None:
    async with HomeAssistantClient(home_assistant.url, "not-the-token") as wrong:
        with pytest.raises(ToolError) as failure:
            await tool(wrong, "get_state").call({"entity_id": KITCHEN})
        reply = await (await OfflineAgent.load(wrong)).handle("turn on the kitchen light")

    assert failure.value.spoken == "Home Assistant refused my token."
    assert failure.value.code == "homeassistant_auth_failed"
    assert reply is not None
    assert reply.text == "Home Assistant refused my token."
    assert not reply.success


@pytest.mark.slow
async def test_an_unknown_entity_is_named_in_the_answer(client: HomeAssistantClient) -> None:
    call = {"domain": "light", "service": "turn_on", "service_data": {"entity_id": "light.banana"}}

    with pytest.raises(ToolError) as failure:
        await tool(client, "execute_services").call({"list": [call]})

    assert failure.value.spoken == "I don't know a device called banana."
    assert failure.value.code == "unknown_entity"
    assert failure.value.details["entity"] == "light.banana"


@pytest.mark.slow
async def test_the_offline_agent_says_which_device_it_does_not_know(client: HomeAssistantClient) -> None:
    agent = await OfflineAgent.load(client)

    reply = await agent.handle("turn on the banana")

    assert reply is not None
    assert reply.text == "I don't know a device called banana."
    assert not reply.success


@pytest.mark.slow
@pytest.mark.usefixtures("kitchen_off")
async def test_the_offline_agent_answers_whether_a_light_is_on(client: HomeAssistantClient) -> None:
    agent = await OfflineAgent.load(client)

    reply = await agent.handle("is the kitchen light on")

    assert reply is not None
    assert reply.text == "No, the Kitchen Light is off."


@pytest.mark.slow
async def test_device_commands_still_work_when_the_language_model_is_down(
    client: HomeAssistantClient,
) -> None:
    await client.call_service("light", "turn_on", {"entity_id": KITCHEN})
    agent = await OfflineAgent.load(client)

    done = await agent.fallback_reply("turn off the kitchen light", "the LLM timed out")
    apology = await agent.fallback_reply("write me a poem", "the LLM timed out")

    assert done.text == "Turned off the Kitchen Light."
    assert (await client.state(KITCHEN)).state == "off"
    assert apology.text == (
        "I can't reach my language model right now, but I can still control your devices and tell the time."
    )
