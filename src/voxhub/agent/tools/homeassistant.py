"""Home Assistant as tools: call services, read states, render templates, and Extended OpenAI's `execute_services`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from voxhub.agent.homeassistant import (
    EntityState,
    HomeAssistantClient,
    HomeAssistantRequestError,
    check_entity_id,
)
from voxhub.agent.tools.base import Tool, ToolKind, ToolResult
from voxhub.engines.llm.base import ToolSpec

# The domains Home Assistant's Assist exposes to voice assistants by default.
DEFAULT_EXPOSED_DOMAINS = frozenset(
    {
        "climate",
        "cover",
        "fan",
        "humidifier",
        "light",
        "lock",
        "media_player",
        "scene",
        "script",
        "switch",
        "todo",
        "vacuum",
        "water_heater",
    }
)

_ENTITY_ID_DESCRIPTION = (
    "The entity_id retrieved from available devices. It must start with domain, followed by dot character."
)

# The same shape as Extended OpenAI Conversation's `execute_services`, so prompts written for it work here.
EXECUTE_SERVICES_SPEC = ToolSpec(
    name="execute_services",
    description="Use this function to execute service of devices in Home Assistant.",
    parameters={
        "type": "object",
        "properties": {
            "list": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "domain": {"type": "string", "description": "The domain of the service"},
                        "service": {"type": "string", "description": "The service to be called"},
                        "service_data": {
                            "type": "object",
                            "description": "The service data object to indicate what to control.",
                            "properties": {
                                "entity_id": {"type": "string", "description": _ENTITY_ID_DESCRIPTION}
                            },
                            "required": ["entity_id"],
                        },
                    },
                    "required": ["domain", "service", "service_data"],
                    "additionalProperties": False,  # an entity_id beside service_data would be lost
                },
            }
        },
        "required": ["list"],
    },
)


def exposed_entities(
    states: Iterable[EntityState], domains: Iterable[str] = DEFAULT_EXPOSED_DOMAINS
) -> list[EntityState]:
    """The entities a voice assistant may see and control, sorted by entity id."""
    wanted = frozenset(domains)
    return sorted((s for s in states if s.domain in wanted), key=lambda s: s.entity_id)


def exposed_entities_prompt(
    states: Iterable[EntityState], domains: Iterable[str] = DEFAULT_EXPOSED_DOMAINS
) -> str:
    """The "Available Devices" CSV block (entity_id,name,state,aliases) Extended OpenAI puts in its prompt."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["entity_id", "name", "state", "aliases"])
    for entity in exposed_entities(states, domains):
        writer.writerow([entity.entity_id, entity.name, entity.state, "/".join(entity.aliases)])
    return f"Available Devices:\n```csv\n{buffer.getvalue()}```\n"


def _entity_ids(service_data: Mapping[str, Any]) -> list[str]:
    """The entity ids a service call names (`entity_id` may be one id, a comma list, or a list)."""
    value = service_data.get("entity_id", [])
    ids = value.split(",") if isinstance(value, str) else list(value)
    return [str(entity_id).strip() for entity_id in ids if str(entity_id).strip()]


def _changed(states: list[EntityState]) -> list[dict[str, str]]:
    return [{"entity_id": s.entity_id, "state": s.state} for s in states]


class _HomeAssistantTool:
    kind: ToolKind = "homeassistant"

    def __init__(self, client: HomeAssistantClient) -> None:
        self.client = client

    async def _call_checked(
        self, domain: str, service: str, service_data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Call one service after checking every entity it names exists (HA itself ignores unknown ids)."""
        for entity_id in _entity_ids(service_data):
            await self.client.state(check_entity_id(entity_id))
        changed = await self.client.call_service(domain, service, service_data)
        return {
            "service": f"{domain}.{service}",
            "service_data": dict(service_data),
            "changed": _changed(changed),
        }


class ExecuteServicesTool(_HomeAssistantTool):
    """Extended OpenAI Conversation's `execute_services`: several service calls in one tool call."""

    spec: ToolSpec = EXECUTE_SERVICES_SPEC

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        calls = arguments.get("list") or []
        if not calls:
            raise HomeAssistantRequestError("execute_services needs at least one service call")
        results = []
        for item in calls:
            results.append(
                await self._call_checked(
                    str(item["domain"]), str(item["service"]), dict(item.get("service_data") or {})
                )
            )
        return ToolResult(json.dumps({"success": True, "results": results}), data=results)


class CallServiceTool(_HomeAssistantTool):
    """One Home Assistant service call (POST /api/services/<domain>/<service>)."""

    spec: ToolSpec = ToolSpec(
        name="call_service",
        description="Call a Home Assistant service, e.g. domain light, service turn_on, on one entity.",
        parameters={
            "type": "object",
            "properties": {
                "domain": {"type": "string", "description": "The service's domain, e.g. light"},
                "service": {"type": "string", "description": "The service, e.g. turn_on"},
                "service_data": {
                    "type": "object",
                    "description": "Service data; entity_id names what to control.",
                    "properties": {"entity_id": {"type": "string", "description": _ENTITY_ID_DESCRIPTION}},
                },
            },
            "required": ["domain", "service"],
        },
    )

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        result = await self._call_checked(
            str(arguments["domain"]), str(arguments["service"]), dict(arguments.get("service_data") or {})
        )
        return ToolResult(json.dumps({"success": True, **result}), data=result)


class GetStatesTool(_HomeAssistantTool):
    """The state of every exposed entity, or of the listed ones (GET /api/states)."""

    spec: ToolSpec = ToolSpec(
        name="get_states",
        description="Get the current state of devices in Home Assistant (all of them, or the listed ones).",
        parameters={
            "type": "object",
            "properties": {
                "entity_ids": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Entity ids to read; empty for every exposed device.",
                }
            },
        },
    )

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        wanted = [str(e) for e in arguments.get("entity_ids") or []]
        if wanted:
            states = [await self.client.state(check_entity_id(entity_id)) for entity_id in wanted]
        else:
            states = exposed_entities(await self.client.states())
        rows = [{"entity_id": s.entity_id, "name": s.name, "state": s.state} for s in states]
        return ToolResult(json.dumps(rows), data=[s.as_dict() for s in states])


class GetStateTool(_HomeAssistantTool):
    """One entity's state and attributes (GET /api/states/<entity_id>)."""

    spec: ToolSpec = ToolSpec(
        name="get_state",
        description="Get one Home Assistant entity's current state and attributes.",
        parameters={
            "type": "object",
            "properties": {"entity_id": {"type": "string", "description": _ENTITY_ID_DESCRIPTION}},
            "required": ["entity_id"],
        },
    )

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        state = await self.client.state(check_entity_id(str(arguments["entity_id"])))
        return ToolResult(json.dumps(state.as_dict(), default=str), data=state.as_dict())


class RenderTemplateTool(_HomeAssistantTool):
    """Render a Jinja template inside Home Assistant (POST /api/template)."""

    spec: ToolSpec = ToolSpec(
        name="render_template",
        description="Render a Home Assistant template, e.g. {{ states('sensor.outside_temperature') }}.",
        parameters={
            "type": "object",
            "properties": {"template": {"type": "string", "description": "The Jinja template to render"}},
            "required": ["template"],
        },
    )

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        rendered = await self.client.render_template(str(arguments["template"]))
        return ToolResult(rendered, data=rendered)


def homeassistant_tools(client: HomeAssistantClient) -> list[Tool]:
    """Every Home Assistant tool, sharing one client."""
    return [
        ExecuteServicesTool(client),
        CallServiceTool(client),
        GetStatesTool(client),
        GetStateTool(client),
        RenderTemplateTool(client),
    ]


class _Renamed:
    """A tool offered under the spec a functions file gives it (its own name and description)."""

    def __init__(self, tool: Tool, spec: ToolSpec) -> None:
        self.kind = tool.kind
        self.spec = spec
        self._tool = tool

    async def call(self, arguments: Mapping[str, Any]) -> ToolResult:
        return await self._tool.call(arguments)


def native_factories(client: HomeAssistantClient) -> dict[str, Callable[[ToolSpec, Mapping[str, Any]], Tool]]:
    """Extended OpenAI Conversation's `native` functions that voxhub can run against Home Assistant."""

    def execute(spec: ToolSpec, function: Mapping[str, Any]) -> Tool:
        return _Renamed(ExecuteServicesTool(client), spec)

    return {"execute_service": execute, "execute_services": execute}
