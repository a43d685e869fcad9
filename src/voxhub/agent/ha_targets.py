"""The entities a command means, found as Assist finds them: by name or alias, area, floor, domain, class.

`home_entities` joins `GET /api/states` with the registries (`voxhub.agent.ha_registry`): each exposed entity
with its spoken names (friendly name, registry aliases), its area and floor. `match_targets` then narrows them
down by what the sentence said ("the lights in the kitchen": domain light, area kitchen; "the front door":
that name) and, for a bare "turn off the lights", by the satellite's own area.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from voxhub.agent.ha_registry import HomeRegistry
from voxhub.agent.homeassistant import EntityState


@dataclass(frozen=True, slots=True)
class HomeEntity:
    """An exposed entity as the offline agent speaks of it."""

    state: EntityState
    names: tuple[str, ...]  # the first is the one replies use
    area_id: str | None = None
    area: str | None = None
    floor_id: str | None = None

    @property
    def entity_id(self) -> str:
        return self.state.entity_id

    @property
    def domain(self) -> str:
        return self.state.domain

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def device_class(self) -> str | None:
        value = self.state.attributes.get("device_class")
        return str(value) if value else None


def home_entities(
    states: Iterable[EntityState], registry: HomeRegistry | None, default_domains: Collection[str]
) -> list[HomeEntity]:
    """The entities Assist may touch: exposed ones (by Home Assistant's setting, else by domain)."""
    found = []
    for state in states:
        exposed_by_default = state.domain in default_domains
        if registry is None:
            if exposed_by_default:
                found.append(HomeEntity(state, (state.name, *state.aliases)))
            continue
        entry = registry.entities.get(state.entity_id)
        default = exposed_by_default and not (entry is not None and entry.hidden)
        if not registry.is_exposed(state.entity_id, default):
            continue
        names = [entry.name] if entry is not None and entry.name else []
        names += [state.name, *(entry.aliases if entry is not None else ()), *state.aliases]
        unique = tuple(dict.fromkeys(n for n in names if n))
        area = registry.area_of(state.entity_id)
        found.append(
            HomeEntity(
                state,
                unique,
                area_id=None if area is None else area.area_id,
                area=None if area is None else area.name,
                floor_id=None if area is None else area.floor_id,
            )
        )
    return found


def _said(text: str) -> str:
    return " ".join(text.casefold().split())


def match_targets(
    entities: Iterable[HomeEntity],
    *,
    name: str | None = None,
    area_id: str | None = None,
    floor_id: str | None = None,
    domains: Collection[str] = (),
    device_classes: Collection[str] = (),
    preferred_area_id: str | None = None,
) -> list[HomeEntity]:
    """The entities that fit every constraint given; with a name in several areas, the preferred area's."""
    found = list(entities)
    if name is not None:
        wanted = _said(name)
        found = [e for e in found if any(_said(n) == wanted for n in e.names)]
    if area_id is not None:
        found = [e for e in found if e.area_id == area_id]
    if floor_id is not None:
        found = [e for e in found if e.floor_id == floor_id]
    if domains:
        found = [e for e in found if e.domain in domains]
    if device_classes:
        found = [e for e in found if e.device_class in device_classes]
    if name is not None and len(found) > 1 and preferred_area_id is not None:
        found = [e for e in found if e.area_id == preferred_area_id] or found
    return found
