"""Home Assistant's own sentence templates (hassil + home-assistant-intents), matched locally against known entities."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hassil import Intents, SlotList, TextSlotList, recognize, recognize_all, recognize_best
from hassil.models import UnmatchedEntity, UnmatchedTextEntity
from home_assistant_intents import get_intents, get_languages

from voxhub.agent.ha_registry import HomeRegistry
from voxhub.agent.ha_targets import HomeEntity
from voxhub.agent.homeassistant import EntityState

# Intents that act on one named device: when their name matches nobody, the user hears "I don't know ...".
# Questions (HassGetState: "tell me a joke" reads as "tell me {name}") are left out: they go to the LLM.
CONTROL_INTENTS = frozenset({"HassTurnOn", "HassTurnOff", "HassLightSet", "HassClimateSetTemperature"})

_MISSING = "<missing>"
# A question that happens to fit a command template ("is the banana on" ~ "{name} on") is not a command.
_QUESTION_WORDS = frozenset({"is", "are", "what", "who", "how", "when", "where", "why", "do", "does", "can"})

# Sentences Home Assistant's set lacks but people say to a voice assistant; merged in at load.
_EXTRA_SENTENCES: dict[str, dict[str, Any]] = {
    "en": {
        "expansion_rules": {
            "voxhub_duration": (
                "({timer_hours:hours}[ |-]hour[s] [and] {timer_minutes:minutes}[ |-]minute[s]"
                "|{timer_minutes:minutes}[ |-]minute[s] [and] {timer_seconds:seconds}[ |-]second[s]"
                "|{timer_hours:hours}[ |-]hour[s]|{timer_minutes:minutes}[ |-]minute[s]"
                "|{timer_seconds:seconds}[ |-]second[s])"
            ),
        },
        "intents": {
            "HassStartTimer": [
                "<timer_set> [a] timer [for] <voxhub_duration>",
                "<timer_set> [a] <voxhub_duration> timer",
                "<timer_set> [a] <voxhub_duration> {timer_name:name} timer",
                "<timer_set> [a] {timer_name:name} timer [for] <voxhub_duration>",
                "<timer_set> [a] timer [for] <voxhub_duration> for [the] {timer_name:name}",
                "<timer_set> [a] <voxhub_duration> timer for [the] {timer_name:name}",
            ],
            "HassTimerStatus": [
                "(how much|how long) [time] [is] (left|remaining) [on [the|my] timer[s]]",
                "how long (until|till) [the|my] timer [is done|goes off|rings]",
                "how long (until|till) [the|my] {timer_name:name} [timer] [is done|is ready|goes off|rings]",
                "(how much|how long) [time] [is] (left|remaining) (on|for) [the|my] {timer_name:name}",
            ],
            # Home Assistant answers these only with a satellite's area; here they mean "the thermostat".
            "HassClimateSetTemperature": [
                "(<numeric_value_set>|adjust) [the] <temp> to {temperature}[([ ]°)|( degree[s])]",
            ],
            "HassClimateGetTemperature": [
                "<what_is> [the] [current] [(indoor|inside)] <temp> [(inside|indoors|at home)]",
                "how (hot|cold|warm|cool) is it [(inside|indoors|at home)]",
            ],
        },
    }
}


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A recognized command: the intent's name and its slot values (entity ids for `name`)."""

    intent: str
    slots: Mapping[str, Any] = field(default_factory=dict)
    slot_texts: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)  # what the name implies ({"domain": "lock"})
    response: str = "default"  # the sentence's response template key (intent_responses.py)


def supported_languages() -> list[str]:
    """Every language home-assistant-intents ships sentences for (English replies are voxhub's own; the
    others are Home Assistant's response templates, intent_responses.py)."""
    return sorted({*get_languages(), *_EXTRA_SENTENCES})


def _sentences_with_extras(language: str) -> dict[str, Any] | None:
    data = get_intents(language)
    if data is None:
        return None
    data = copy.deepcopy(data)
    extras = _EXTRA_SENTENCES.get(language, {})
    data["expansion_rules"].update(extras.get("expansion_rules", {}))
    for intent, sentences in extras.get("intents", {}).items():
        block = {"sentences": sentences, "metadata": {"source": "voxhub"}}
        data["intents"].setdefault(intent, {"data": []})["data"].append(block)
    return data


def _name_only_commands(data: Mapping[str, Any]) -> dict[str, Any]:
    """The control intents' sentences that name one device (no area, no floor): the unknown-name search space."""
    commands = {**data, "intents": {}}
    for intent in CONTROL_INTENTS:
        blocks = []
        for block in data["intents"].get(intent, {}).get("data", []):
            sentences = [
                s for s in block["sentences"] if "{name}" in s and "{area}" not in s and "{floor}" not in s
            ]
            if sentences:
                blocks.append({**block, "sentences": sentences})
        commands["intents"][intent] = {"data": blocks}
    return commands


def _unmatched_text(entity: UnmatchedEntity) -> str:
    return entity.text if isinstance(entity, UnmatchedTextEntity) else _MISSING


class IntentMatcher:
    """Matches text against one language's intents; entity names come from Home Assistant's states."""

    def __init__(self, language: str, intents: Intents, name_only_commands: Intents) -> None:
        self.language = language
        self._intents = intents
        self._name_only_commands = name_only_commands
        # Searching for an unknown name with no names known keeps that search fast at any entity count.
        self._no_names: dict[str, SlotList] = {
            name: TextSlotList.from_strings([]) for name in ("name", "area", "floor")
        }
        self._slot_lists = dict(self._no_names)

    @classmethod
    def load(cls, language: str) -> IntentMatcher | None:
        """Parse the language's templates and compile them with one warm-up match (blocking: ~0.2 s)."""
        data = _sentences_with_extras(language)
        if data is None:
            return None
        matcher = cls(language, Intents.from_dict(data), Intents.from_dict(_name_only_commands(data)))
        matcher.warm_up()
        return matcher

    def set_entities(self, entities: Iterable[EntityState]) -> None:
        """Make these entities' names (and aliases) speakable as `{name}` (blocking: compiles them)."""
        values: list[tuple[str, Any, dict[str, Any]]] = []
        for entity in entities:
            for spoken in (entity.name, *entity.aliases):
                values.append((spoken, entity.entity_id, {"domain": entity.domain}))
        self._slot_lists = {**self._no_names, "name": TextSlotList.from_tuples(values, allow_template=False)}
        self.warm_up()

    def set_home(self, entities: Iterable[HomeEntity], registry: HomeRegistry | None) -> None:
        """Entity names and aliases as `{name}` (their value: the name replies use), and the registry's areas
        and floors with their aliases as `{area}` / `{floor}` (their value: the id). Blocking: compiles them."""
        names = [
            (spoken, entity.name, {"domain": entity.domain}) for entity in entities for spoken in entity.names
        ]
        areas = floors = []
        if registry is not None:
            areas = [(n, a.area_id) for a in registry.areas.values() for n in (a.name, *a.aliases)]
            floors = [(n, f.floor_id) for f in registry.floors.values() for n in (f.name, *f.aliases)]
        self._slot_lists = {
            "name": TextSlotList.from_tuples(names, allow_template=False),
            "area": TextSlotList.from_tuples(areas, allow_template=False),
            "floor": TextSlotList.from_tuples(floors, allow_template=False),
        }
        self.warm_up()

    def warm_up(self) -> None:
        """Match once so hassil compiles its templates now, not on the user's first command."""
        self.match("what time is it")
        self.unknown_device_name("turn on the warm up lamp")

    def match(self, text: str, area_id: str | None = None) -> IntentMatch | None:
        """The intent `text` expresses; `area_id` is where it was said (a satellite's area), for "the lights"."""
        context = {"area": area_id} if area_id else None
        result = recognize(
            text, self._intents, slot_lists=self._slot_lists, intent_context=context, language=self.language
        )
        if result is not None and "name" not in result.entities and "area" in result.entities:
            # As Assist ranks them: a sentence naming a device beats one naming its area ("the kitchen
            # light" is the Kitchen Light, not the kitchen's lights). Ranking costs ~2x: only when it matters.
            result = recognize_best(
                text,
                self._intents,
                slot_lists=self._slot_lists,
                intent_context=context,
                language=self.language,
                best_slot_name="name",
            )
        if result is None:
            return None
        return IntentMatch(
            result.intent.name,
            {name: entity.value for name, entity in result.entities.items()},
            {name: str(entity.text).strip() for name, entity in result.entities.items()},
            dict(result.context or {}),
            result.response or "default",
        )

    def unknown_device_name(self, text: str) -> str | None:
        """The device name a control command used that no entity has ("turn on the banana" → "banana")."""
        words = text.strip().casefold().split()
        if not words or words[0] in _QUESTION_WORDS:
            return None
        best: tuple[int, str] | None = None  # (literal text chunks matched, the unknown name)
        for result in recognize_all(
            text,
            self._name_only_commands,
            slot_lists=self._no_names,
            allow_unmatched_entities=True,
            language=self.language,
        ):
            unmatched = {name: _unmatched_text(entity) for name, entity in result.unmatched_entities.items()}
            if "name" not in unmatched or set(unmatched) - {"name", "domain"}:
                continue
            if unmatched.get("domain", _MISSING) != _MISSING:
                continue
            if best is None or result.text_chunks_matched > best[0]:
                best = (result.text_chunks_matched, unmatched["name"].strip())
        if best is None or best[0] == 0:
            return None
        name_text = best[1]
        if not name_text or name_text.casefold() == text.strip().casefold():
            return None
        return name_text
