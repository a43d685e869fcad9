"""The offline agent's home intents carried out: the entities Assist would pick, the services it would call.

Each handler takes a `HomeView` (the client, the exposed entities, where the sentence was said) and the match;
it returns the reply, or None to leave the sentence to the language model. Questions read the state fresh from
Home Assistant and answer from it, never from a guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from voxhub.agent.ha_registry import HomeRegistry
from voxhub.agent.ha_targets import HomeEntity, match_targets
from voxhub.agent.homeassistant import EntityState, HomeAssistantClient, UnknownEntityError
from voxhub.agent.intents import IntentMatch
from voxhub.agent.offline_reply import OfflineReply, listed, number, sentence, the
from voxhub.agent.tools.base import ToolError

# The service each domain uses for "turn on" / "turn off", and the verb the reply uses.
_ON_SERVICES: dict[str, tuple[str, str]] = {
    "cover": ("open_cover", "Opened"),
    "valve": ("open_valve", "Opened"),
    "lock": ("lock", "Locked"),
    "vacuum": ("start", "Started"),
}
_OFF_SERVICES: dict[str, tuple[str, str]] = {
    "cover": ("close_cover", "Closed"),
    "valve": ("close_valve", "Closed"),
    "lock": ("unlock", "Unlocked"),
    "vacuum": ("return_to_base", "Sent back"),
}
_TOGGLE_DOMAINS = frozenset(
    {"light", "switch", "fan", "input_boolean", "media_player", "climate", "humidifier", "automation"}
)
_NOUNS = {
    "light": "lights",
    "fan": "fans",
    "cover": "covers",
    "lock": "locks",
    "media_player": "media players",
}
_MEDIA_SERVICES: dict[str, tuple[str, str]] = {
    "HassMediaPause": ("media_pause", "Paused"),
    "HassMediaUnpause": ("media_play", "Resumed"),
    "HassMediaNext": ("media_next_track", "Skipped ahead on"),
    "HassMediaPrevious": ("media_previous_track", "Went back on"),
}


@dataclass(frozen=True, slots=True)
class HomeView:
    """What a home intent acts on: the client, the entities exposed to Assist, and where it was said."""

    client: HomeAssistantClient
    entities: Sequence[HomeEntity]
    registry: HomeRegistry | None = None
    area_id: str | None = None  # the satellite's (session's) area


def _domains(value: Any) -> set[str]:
    if value is None:
        return set()
    return {str(v) for v in value} if isinstance(value, list | tuple | set) else {str(value)}


def _area_name(view: HomeView, area_id: str) -> str:
    area = None if view.registry is None else view.registry.areas.get(area_id)
    return area_id.replace("_", " ") if area is None else area.name


def _floor_name(view: HomeView, floor_id: str) -> str:
    floor = None if view.registry is None else view.registry.floors.get(floor_id)
    return floor_id.replace("_", " ") if floor is None else floor.name


def targets(view: HomeView, found: IntentMatch, domains: Collection[str] = ()) -> list[HomeEntity]:
    """The entities the sentence means; a ToolError the user hears when it means none."""
    slots, said = found.slots, found.slot_texts
    name = slots.get("name")
    area_id = str(slots["area"]) if slots.get("area") else None
    floor_id = str(slots["floor"]) if slots.get("floor") else None
    wanted = _domains(slots.get("domain")) or set(domains)
    if domains:
        wanted &= set(domains)
    if name is not None:
        wanted |= _domains(found.context.get("domain")) if not wanted else set()
    area_from_context = area_id is not None and not said.get("area")
    if name is None and area_id is None and floor_id is None:
        return []  # "turn off the lights" with no area: too broad to guess
    found_entities = match_targets(
        view.entities,
        name=None if name is None else str(name),
        area_id=None if name is not None and area_from_context else area_id,
        floor_id=floor_id,
        domains=wanted,
        device_classes=_domains(slots.get("device_class")),
        preferred_area_id=area_id if area_from_context else view.area_id,
    )
    if found_entities:
        return found_entities
    if name is not None:
        raise UnknownEntityError(said.get("name") or str(name))
    noun = _NOUNS.get(next(iter(wanted)), "devices") if len(wanted) == 1 else "devices"
    where = f"the {_area_name(view, area_id)}" if area_id else f"the {_floor_name(view, str(floor_id))}"
    raise ToolError(f"no exposed {noun} in {where}", spoken=f"I don't see any {noun} in {where}.")


def _ids(entities: Sequence[HomeEntity]) -> str | list[str]:
    ids = [e.entity_id for e in entities]
    return ids[0] if len(ids) == 1 else ids


async def _call(
    view: HomeView, domain: str, service: str, entities: Sequence[HomeEntity], **data: Any
) -> None:
    await view.client.call_service(domain, service, {"entity_id": [e.entity_id for e in entities], **data})


async def _switch(view: HomeView, found: IntentMatch, on: bool) -> OfflineReply | None:
    chosen = targets(view, found)
    if not chosen:
        return None
    special = _ON_SERVICES if on else _OFF_SERVICES
    groups: dict[tuple[str, str], list[HomeEntity]] = {}
    verbs: list[str] = []
    for entity in chosen:
        domain, service, verb = (
            entity.domain,
            "turn_on" if on else "turn_off",
            "Turned on" if on else "Turned off",
        )
        if domain in special:
            service, verb = special[domain]
        elif domain not in _TOGGLE_DOMAINS:
            domain = "homeassistant"
        groups.setdefault((domain, service), []).append(entity)
        verbs.append(verb)
    for (domain, service), members in groups.items():
        await _call(view, domain, service, members)
    verb = verbs[0] if len(set(verbs)) == 1 else ("Turned on" if on else "Turned off")
    return OfflineReply(f"{verb} {listed([e.name for e in chosen])}.", found.intent, {"name": _ids(chosen)})


async def turn_on(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    return await _switch(view, found, on=True)


async def turn_off(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    return await _switch(view, found, on=False)


async def light_set(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    chosen = targets(view, found, domains=("light",))
    slots = found.slots
    if not chosen:
        return None
    data: dict[str, Any]
    if "brightness" in slots:
        data, said = {"brightness_pct": float(slots["brightness"])}, f"{number(slots['brightness'])} percent"
    elif "color" in slots:
        data, said = {"color_name": str(slots["color"])}, str(slots["color"])
    elif "temperature" in slots:
        data, said = (
            {"color_temp_kelvin": int(float(slots["temperature"]))},
            f"{number(slots['temperature'])} kelvin",
        )
    else:
        return None
    await _call(view, "light", "turn_on", chosen, **data)
    return OfflineReply(
        f"Set {listed([e.name for e in chosen])} to {said}.", found.intent, {"name": _ids(chosen), **data}
    )


def _thermostats(view: HomeView, found: IntentMatch) -> list[HomeEntity]:
    """The climate entities meant; with no name or area, the only thermostat (or the satellite's area's)."""
    said_area = "area" in found.slots and found.slot_texts.get("area")  # not the satellite's context
    if "name" in found.slots or "floor" in found.slots or said_area:
        return targets(view, found, domains=("climate",))
    here = str(found.slots.get("area") or view.area_id or "")
    climates = [e for e in view.entities if e.domain == "climate"]
    local = [e for e in climates if here and e.area_id == here]
    return local or (climates if len(climates) == 1 else [])


async def set_temperature(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    if "temperature" not in found.slots:
        return None
    chosen = _thermostats(view, found)
    if not chosen:
        return None
    degrees = float(found.slots["temperature"])
    await _call(view, "climate", "set_temperature", chosen, temperature=degrees)
    text = f"Set {listed([e.name for e in chosen])} to {number(degrees)} degrees."
    return OfflineReply(text, found.intent, {"name": _ids(chosen), "temperature": degrees})


def _reads_temperature(entity: HomeEntity) -> bool:
    if entity.domain == "climate":
        return True
    unit = entity.state.attributes.get("unit_of_measurement")
    return entity.domain == "sensor" and (entity.device_class == "temperature" or unit in ("°C", "°F", "K"))


def _area_thermometers(view: HomeView, found: IntentMatch) -> list[HomeEntity]:
    """What reads the temperature in the area: entities in it, else ones whose name holds the area's name
    (a "Living Room Temperature" sensor in no area)."""
    try:
        chosen = [e for e in targets(view, found, domains=("climate", "sensor")) if _reads_temperature(e)]
    except ToolError:
        chosen = []
    said = found.slot_texts.get("area") or found.slot_texts.get("floor") or ""
    area_id = found.slots.get("area")
    words = (_area_name(view, str(area_id)) if area_id else said).casefold().split()
    if not chosen and words:
        readers = [e for e in view.entities if _reads_temperature(e)]
        chosen = [e for e in readers if all(w in e.name.casefold().split() for w in words)]
    if not chosen:
        where = said or (words and " ".join(words)) or "there"
        raise ToolError(
            f"no thermometer in {where}", spoken=f"Home Assistant has no temperature sensor in the {where}."
        )
    return chosen


async def get_temperature(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    """A thermostat's (or an area's thermometer's) current reading, read fresh."""
    if "name" in found.slots:
        chosen = targets(view, found)
    elif "area" in found.slots or "floor" in found.slots:
        chosen = _area_thermometers(view, found)
    else:
        chosen = _thermostats(view, found)
    if not chosen:
        return None
    chosen = [e for e in chosen if e.domain == "climate"] or chosen
    parts, readings = [], []
    for entity in chosen[:3]:
        state = await view.client.state(entity.entity_id)
        value = state.attributes.get("current_temperature") if entity.domain == "climate" else state.state
        if value is None or value in ("unknown", "unavailable"):
            parts.append(f"{the(entity.name)} has no reading")
            continue
        unit = "degrees" if entity.domain == "climate" else state.attributes.get("unit_of_measurement", "")
        parts.append(f"{the(entity.name)} reads {number(value)} {unit}".rstrip())
        readings.append(value)
    text = sentence(", and ".join(parts)) + "."
    return OfflineReply(text, found.intent, {"name": _ids(chosen[:3]), "temperature": readings})


def _state_words(state: EntityState) -> str:
    unit = state.attributes.get("unit_of_measurement")
    return f"{state.state} {unit}" if unit else state.state


async def get_state(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    """ "Is the front door locked", "are the lights in the kitchen on": from the states, read fresh."""
    chosen = targets(view, found)
    if not chosen:
        return None
    states = [await view.client.state(e.entity_id) for e in chosen]
    names = {s.entity_id: e.name for s, e in zip(states, chosen, strict=True)}
    asked = found.slots.get("state")
    said = [f"{the(names[s.entity_id])} is {_state_words(s)}" for s in states[:3]]
    text = sentence(", and ".join(said)) + "."
    if len(states) > 3:
        text = text[:-1] + f", and {len(states) - 3} more."
    if asked is not None:
        matching = [s for s in states if s.state.casefold() == str(asked).casefold()]
        answer = "Yes" if len(matching) == len(states) else "No"
        if len(states) > 1 and matching and answer == "No":
            answer = f"{len(matching)} of {len(states)} are"
            answer += f" {asked}"
        text = f"{answer}, {text[:1].lower()}{text[1:]}"
    slots = {
        "name": _ids(chosen),
        "state": states[0].state if len(states) == 1 else [s.state for s in states],
    }
    return OfflineReply(text, found.intent, slots)


async def set_position(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    chosen = targets(view, found, domains=("cover", "valve"))
    if not chosen or "position" not in found.slots:
        return None
    position = int(float(found.slots["position"]))
    for domain in sorted({e.domain for e in chosen}):
        members = [e for e in chosen if e.domain == domain]
        await _call(view, domain, f"set_{domain}_position", members, position=position)
    text = f"Set {listed([e.name for e in chosen])} to {position} percent."
    return OfflineReply(text, found.intent, {"name": _ids(chosen), "position": position})


async def fan_speed(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    chosen = targets(view, found, domains=("fan",))
    if not chosen or "percentage" not in found.slots:
        return None
    percentage = int(float(found.slots["percentage"]))
    await _call(view, "fan", "set_percentage", chosen, percentage=percentage)
    text = f"Set {listed([e.name for e in chosen])} to {percentage} percent."
    return OfflineReply(text, found.intent, {"name": _ids(chosen), "percentage": percentage})


def _players(view: HomeView, found: IntentMatch) -> list[HomeEntity]:
    if any(key in found.slots for key in ("name", "area", "floor")):
        return targets(view, found, domains=("media_player",))
    players = [e for e in view.entities if e.domain == "media_player"]
    return players if len(players) == 1 else []


async def media(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    service, verb = _MEDIA_SERVICES[found.intent]
    chosen = _players(view, found)
    if not chosen:
        return None
    await _call(view, "media_player", service, chosen)
    return OfflineReply(f"{verb} {listed([e.name for e in chosen])}.", found.intent, {"name": _ids(chosen)})


async def set_volume(view: HomeView, found: IntentMatch) -> OfflineReply | None:
    chosen = _players(view, found)
    if not chosen or "volume" not in found.slots:
        return None
    volume = int(float(found.slots["volume"]))
    await _call(view, "media_player", "volume_set", chosen, volume_level=volume / 100)
    text = f"Set {listed([e.name for e in chosen])} to volume {volume}."
    return OfflineReply(text, found.intent, {"name": _ids(chosen), "volume": volume})


HomeHandler = Callable[[HomeView, IntentMatch], Awaitable[OfflineReply | None]]
HOME_HANDLERS: dict[str, HomeHandler] = {
    "HassTurnOn": turn_on,
    "HassTurnOff": turn_off,
    "HassLightSet": light_set,
    "HassClimateSetTemperature": set_temperature,
    "HassClimateGetTemperature": get_temperature,
    "HassGetState": get_state,
    "HassSetPosition": set_position,
    "HassFanSetSpeed": fan_speed,
    "HassSetVolume": set_volume,
    **dict.fromkeys(_MEDIA_SERVICES, media),
}
