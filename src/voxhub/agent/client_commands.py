"""Home commands as calls of a client's own service tool (Extended OpenAI Conversation's `execute_services`).

A client such as Extended OpenAI Conversation (EOC) runs its tools itself and lists the devices it exposes in
its system prompt, as CSV (`entity_id,name,state,aliases`). This module reads that list, turns a command the
offline agent recognised into the tool's arguments (`{"list": [{"domain", "service", "service_data"}]}`), and
words the confirmation once the client reports the result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voxhub.agent.homeassistant import EntityState
from voxhub.agent.intents import IntentMatch
from voxhub.engines.llm.base import ChatMessage, ToolCall, ToolSpec

CSV_HEADER = "entity_id,name,state,aliases"
_ENTITY_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")

# The service of each domain for "turn on" / "turn off", where it is not `turn_on` / `turn_off`.
_ON: dict[str, str] = {"cover": "open_cover", "lock": "lock", "valve": "open_valve"}
_OFF: dict[str, str] = {"cover": "close_cover", "lock": "unlock", "valve": "close_valve"}
# Domains with their own turn_on / turn_off; any other goes through `homeassistant.turn_on`.
_SWITCHABLE = frozenset(
    {
        "light",
        "switch",
        "fan",
        "input_boolean",
        "media_player",
        "climate",
        "humidifier",
        "automation",
        "siren",
        "water_heater",
    }
)
_ACTIVATED = frozenset({"scene", "script"})  # "turn on" runs them; they have no turn_off
# How a confirmation words each service.
_VERBS: dict[str, str] = {
    "turn_on": "Turned on",
    "turn_off": "Turned off",
    "open_cover": "Opened",
    "close_cover": "Closed",
    "open_valve": "Opened",
    "close_valve": "Closed",
    "lock": "Locked",
    "unlock": "Unlocked",
}


@dataclass(frozen=True, slots=True)
class ListedEntity:
    """One row of the client's device list."""

    entity_id: str
    name: str
    state: str
    aliases: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        return self.entity_id.partition(".")[0]

    def speakable(self) -> list[EntityState]:
        """As the matcher takes entities: one per name it may be called by (its name, then its aliases)."""
        return [
            EntityState(self.entity_id, self.state, {"friendly_name": name})
            for name in (self.name, *self.aliases)
            if name
        ]


def listed_entities(messages: Sequence[ChatMessage]) -> list[ListedEntity]:
    """The devices a system message lists as EOC's CSV (`entity_id,name,state,aliases`); [] if none does.

    EOC writes the rows without quoting, so a name may hold commas: the id is the first field, the state
    and the aliases (joined by `/`) the last two, and the name all between.
    """
    for message in messages:
        if message.role != "system" or CSV_HEADER not in message.content:
            continue
        rows = message.content.split(CSV_HEADER, 1)[1].splitlines()
        entities: list[ListedEntity] = []
        for row in rows[1:] if rows and not rows[0].strip() else rows:
            if not row.strip() or row.lstrip().startswith("```"):
                break
            fields = row.split(",")
            if len(fields) < 4 or not _ENTITY_ID.match(fields[0].strip()):
                continue
            aliases = tuple(alias.strip() for alias in fields[-1].split("/") if alias.strip())
            name = ",".join(fields[1:-2]).strip()
            entities.append(ListedEntity(fields[0].strip(), name, fields[-2].strip(), aliases))
        if entities:
            return entities
    return []


def service_tool(tools: Sequence[ToolSpec]) -> ToolSpec | None:
    """The client's tool that takes a list of Home Assistant service calls, by its shape (any name)."""
    for tool in tools:
        items = tool.parameters.get("properties", {}).get("list", {}).get("items", {})
        fields = items.get("properties", {}) if isinstance(items, Mapping) else {}
        if {"domain", "service"} <= set(fields):
            return tool
    return None


def service_calls(found: IntentMatch, entities: Sequence[ListedEntity]) -> list[dict[str, Any]]:
    """The service calls that carry out `found` on the listed entities ([]: none it can name)."""
    by_id = {entity.entity_id: entity for entity in entities}
    slots = found.slots
    targets = [by_id[str(slots["name"])]] if str(slots.get("name")) in by_id else []
    if not targets and "name" not in slots and slots.get("domain"):
        targets = [e for e in entities if e.domain == str(slots["domain"])]  # "turn off all the lights"
    if found.intent in ("HassTurnOn", "HassTurnOff"):
        on = found.intent == "HassTurnOn"
        return [_switch(entity, on) for entity in targets if on or entity.domain not in _ACTIVATED]
    if found.intent == "HassLightSet":
        data: dict[str, Any] = {}
        if "brightness" in slots:
            data["brightness_pct"] = int(float(slots["brightness"]))
        elif "color" in slots:
            data["color_name"] = str(slots["color"])
        if not data:
            return []
        return [_call("light", "turn_on", e, data) for e in targets if e.domain == "light"]
    if found.intent == "HassClimateSetTemperature" and "temperature" in slots:
        thermostats = [e for e in entities if e.domain == "climate"]
        if not targets and len(thermostats) == 1:
            targets = thermostats
        data = {"temperature": float(slots["temperature"])}
        return [_call("climate", "set_temperature", e, data) for e in targets if e.domain == "climate"]
    return []


def _switch(entity: ListedEntity, on: bool) -> dict[str, Any]:
    special = _ON if on else _OFF
    service = "turn_on" if on else "turn_off"
    if entity.domain in special:
        return _call(entity.domain, special[entity.domain], entity)
    if entity.domain in _SWITCHABLE or entity.domain in _ACTIVATED:
        return _call(entity.domain, service, entity)
    return _call("homeassistant", service, entity)


def _call(
    domain: str, service: str, entity: ListedEntity, data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "domain": domain,
        "service": service,
        "service_data": {"entity_id": entity.entity_id, **(data or {})},
    }


def confirmation(
    calls: Sequence[ToolCall], results: Sequence[ChatMessage], entities: Sequence[ListedEntity]
) -> str:
    """What the user hears once the client ran the calls: done, or that it failed (and why, if it said)."""
    names = {entity.entity_id: entity.name for entity in entities}
    failure = next((reason for m in results if (reason := _failure(m.content)) is not None), None)
    done: list[str] = []
    for call in calls:
        try:
            items = json.loads(call.arguments_json).get("list") or []
        except (json.JSONDecodeError, AttributeError):
            items = []
        done += [phrase for item in items if isinstance(item, Mapping) and (phrase := _phrase(item, names))]
    if failure is not None:
        return (
            f"Sorry, Home Assistant couldn't do that: {failure}."
            if failure
            else "Sorry, Home Assistant couldn't do that."
        )
    if not done:
        return "Done."
    first, *rest = done
    return " and ".join([first, *(phrase[:1].lower() + phrase[1:] for phrase in rest)]) + "."


def _phrase(item: Mapping[str, Any], names: Mapping[str, str]) -> str:
    data = item.get("service_data") or {}
    service = str(item.get("service", ""))
    raw_ids = data.get("entity_id", []) if isinstance(data, Mapping) else []
    ids = [raw_ids] if isinstance(raw_ids, str) else list(raw_ids)
    spoken = " and ".join(_the(names.get(str(i)) or str(i).partition(".")[2].replace("_", " ")) for i in ids)
    if not spoken:
        return ""
    if isinstance(data, Mapping) and "brightness_pct" in data:
        return f"Set {spoken} to {_number(data['brightness_pct'])} percent"
    if isinstance(data, Mapping) and "color_name" in data:
        return f"Set {spoken} to {data['color_name']}"
    if isinstance(data, Mapping) and service == "set_temperature" and "temperature" in data:
        return f"Set {spoken} to {_number(data['temperature'])} degrees"
    verb = _VERBS.get(service, f"Ran {service.replace('_', ' ')} on")
    return f"{verb} {spoken}"


def _failure(content: str) -> str | None:
    """The error a tool result reports (EOC: `[{'error': '...'}]`, or JSON), "" when it gives no reason, None
    when it reports none."""
    match = re.search(r"""["']error["']\s*:\s*(?:["'](?P<reason>[^"']*)["'])?""", content)
    if match is None:
        return None
    return (match.group("reason") or "").strip().rstrip(".")


def _the(name: str) -> str:
    return name if name.casefold().startswith("the ") else f"the {name}"


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
