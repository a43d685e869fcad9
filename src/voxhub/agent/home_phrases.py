"""Is this about the user's home? Commands and state questions recognised by their words, with no entities.

Home Assistant's sentence templates match only devices it knows. With no Home Assistant (or a device it does
not have), "turn off all the lights in the kitchen" or "is the front door locked" would reach the language
model, which invents an answer. These patterns catch them so the offline agent can answer plainly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from voxhub.agent.homeassistant import EntityState, HomeAssistantClient, UnknownEntityError

_DEVICE = (
    r"(?:lights?|lamps?|bulbs?|fans?|doors?|locks?|thermostats?|heating|heaters?|radiators?|"
    r"air ?con(?:ditioning|ditioner)?|ac|blinds?|curtains?|shades?|shutters?|windows?|garage|gates?|"
    r"tv|television|switch(?:es)?|plugs?|sockets?|outlets?|vacuum|hoover|alarm|sprinklers?|kettle|"
    r"dishwasher|washing machine|dryer|boiler|humidifier|dehumidifier|oven)"
)
_ROOM = (
    r"(?:living room|sitting room|dining room|family room|bedroom|kitchen|bathroom|office|study|garage|"
    r"basement|cellar|attic|loft|hall|hallway|nursery|lounge|den|conservatory|laundry|porch|playroom|"
    r"upstairs|downstairs|kids'? room|guest room|\w+'s room|house|home)"
)
_COMMAND = re.compile(
    rf"^(?:(?:turn|switch|shut|flip|power) (?:on|off|up|down) .*\b{_DEVICE}\b.*"
    rf"|(?:turn|switch|shut|power) .*\b{_DEVICE}\b.* (?:on|off)"
    rf"|(?:dim|brighten|lock|unlock|open|close|raise|lower|start|stop) (?:all )?(?:of )?(?:the |my ).*\b{_DEVICE}\b.*"
    rf"|set (?:all )?(?:the |my ).*\b{_DEVICE}\b.* to .+)$"
)
_STATE = re.compile(
    rf"^(?:is|are) (?:all )?(?:the |my |any )?(?:of the )?(?P<thing>.*\b{_DEVICE}\b.*?) (?:still |currently )?"
    r"(?P<state>on|off|open|closed|shut|locked|unlocked|running|armed|disarmed)"
    rf"(?: in the (?P<room>{_ROOM}))?(?: right now| now)?$"
)
_MEASURE = re.compile(
    r"^(?:what is|tell me) the (?:current )?(?P<measure>temperature|humidity)"
    rf"(?: (?:in|of|inside) (?:the |my )?(?P<place>{_ROOM})| (?:inside|indoors|at home|in here))$"
    r"|^how (?P<adjective>warm|hot|cold|cool|humid) is it "
    rf"(?:in (?:the |my )?(?P<room>{_ROOM})|inside|indoors|at home|in here)$"
)


@dataclass(frozen=True, slots=True)
class HomeRequest:
    """What the user asked of their home: a command, a device's state, or a room's temperature or humidity."""

    kind: str  # "command", "state", "measure"
    thing: str = ""  # the device ("front door") or the room ("living room"); "" for the home as a whole
    state: str = ""  # the state asked about ("locked")
    measure: str = ""  # "temperature" or "humidity"


def _clean(text: str) -> str:
    text = text.strip().casefold().replace("’", "'").replace("what's", "what is")
    text = re.sub(r"[?!.,]+", " ", text)
    text = re.sub(
        r"^(?:hey |ok |okay )?(?:please )?(?:can you |could you |would you )?(?:please )?", "", text
    )
    return re.sub(r"\s+", " ", text).strip().removesuffix(" please")


def home_request(text: str) -> HomeRequest | None:
    """The home command or question `text` is (English), or None when it is not plainly one."""
    cleaned = _clean(text)
    if (match := _MEASURE.match(cleaned)) is not None:
        adjective = match["adjective"]
        measure = match["measure"] or ("humidity" if adjective == "humid" else "temperature")
        place = match["place"] or match["room"] or ""
        return HomeRequest("measure", "" if place in ("house", "home") else place, measure=measure)
    if (match := _STATE.match(cleaned)) is not None:
        thing = match["thing"]
        if match["room"]:
            thing = f"{match['room']} {thing}"
        return HomeRequest("state", thing, state=match["state"])
    if _COMMAND.match(cleaned):
        return HomeRequest("command")
    return None


NOT_CONNECTED = "I'm not connected to Home Assistant, so I can't check or control your home."
_MAX_LISTED = 3
_UNITS = {"temperature": ("°C", "°F", "K"), "humidity": ("%",)}


@dataclass(frozen=True, slots=True)
class HomeAnswer:
    """What Home Assistant's states say to a question (or that it has nothing to say it with)."""

    text: str
    slots: dict[str, Any]
    success: bool = True


def _the(name: str) -> str:
    return name if name.casefold().startswith("the ") else f"the {name}"


def _named(entities: Iterable[EntityState], thing: str) -> list[EntityState]:
    """Entities named `thing`, else whose name holds its words ("front door" → Front Door Lock), else singular."""
    entities = list(entities)
    wanted_names = [w for w in (thing, thing.removesuffix("s"), re.sub(r"s\b", "", thing)) if w]
    for wanted in wanted_names:  # a name said whole wins over names that hold its words
        found = [e for e in entities if e.name.casefold() == wanted]
        if found:
            return found
    for wanted in wanted_names:
        words = wanted.split()
        found = [e for e in entities if all(w in e.name.casefold().split() for w in words)]
        if found:
            return found
    return []


def _reads(entity: EntityState, measure: str) -> bool:
    attributes = entity.attributes
    if entity.domain == "climate":
        return attributes.get(f"current_{measure}") is not None
    return entity.domain == "sensor" and (
        attributes.get("device_class") == measure or attributes.get("unit_of_measurement") in _UNITS[measure]
    )


def _reading(entity: EntityState, measure: str) -> str:
    if entity.domain == "climate":
        value = entity.attributes.get(f"current_{measure}")
        return f"{_number(value)} {'degrees' if measure == 'temperature' else 'percent'}"
    unit = entity.attributes.get("unit_of_measurement")
    value = _number(entity.state)
    return f"{value} {unit}" if unit else value


def _number(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _joined(parts: list[str]) -> str:
    text = ", and ".join(parts)
    return text[:1].upper() + text[1:] + "."


async def read_home(
    request: HomeRequest, entities: Mapping[str, EntityState], client: HomeAssistantClient
) -> HomeAnswer:
    """The answer to a state or measure question from Home Assistant's current states (read fresh)."""
    if request.kind == "measure":
        readers = [e for e in entities.values() if _reads(e, request.measure)]
        found = _named(readers, request.thing) if request.thing else readers
        if not request.thing and len(found) > 1:
            found = [e for e in found if e.domain == "climate"] or found
        if not found:
            where = f" in the {request.thing}" if request.thing else ""
            return HomeAnswer(
                f"Home Assistant has no {request.measure} sensor{where}.",
                {"measure": request.measure, "area": request.thing},
                success=False,
            )
        states = [await client.state(e.entity_id) for e in found[:_MAX_LISTED]]
        parts = [f"{_the(s.name)} reads {_reading(s, request.measure)}" for s in states]
        return HomeAnswer(_joined(parts), {"name": [s.entity_id for s in states]})
    found = _named(entities.values(), request.thing)
    if not found:
        raise UnknownEntityError(request.thing)
    states = [await client.state(e.entity_id) for e in found[:_MAX_LISTED]]
    parts = []
    for state in states:
        unit = state.attributes.get("unit_of_measurement")
        parts.append(
            f"{_the(state.name)} is {state.state} {unit}" if unit else f"{_the(state.name)} is {state.state}"
        )
    text = _joined(parts)
    if len(states) == 1 and request.state:
        answer = "Yes" if states[0].state.casefold() == request.state else "No"
        text = f"{answer}, {text[:1].lower()}{text[1:]}"
    return HomeAnswer(text, {"name": [s.entity_id for s in states], "state": [s.state for s in states]})
