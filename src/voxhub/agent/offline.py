"""The offline conversation agent: Home Assistant-style commands answered locally, with no language model."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voxhub.agent.exact import solve
from voxhub.agent.home_phrases import NOT_CONNECTED, HomeRequest, home_request, read_home
from voxhub.agent.homeassistant import EntityState, HomeAssistantClient, UnknownEntityError
from voxhub.agent.intents import IntentMatch, IntentMatcher, supported_languages
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.homeassistant import DEFAULT_EXPOSED_DOMAINS
from voxhub.agent.tools.timers import TimerService, describe_duration
from voxhub.errors import VoxhubError

logger = logging.getLogger(__name__)

# Entities the offline agent can name: what Assist exposes, plus helpers and sensors people ask about.
OFFLINE_DOMAINS = DEFAULT_EXPOSED_DOMAINS | {"input_boolean", "sensor", "binary_sensor"}

# The service each domain uses for "turn on" / "turn off", and the verb the reply uses.
_ON_SERVICES: dict[str, tuple[str, str]] = {"cover": ("open_cover", "Opened"), "lock": ("lock", "Locked")}
_OFF_SERVICES: dict[str, tuple[str, str]] = {
    "cover": ("close_cover", "Closed"),
    "lock": ("unlock", "Unlocked"),
}
_TOGGLE_DOMAINS = frozenset(
    {"light", "switch", "fan", "input_boolean", "media_player", "climate", "humidifier"}
)

# Home Assistant's time and date intents answer what the exact solver would say too, under their own names.
_CLOCK_INTENTS = frozenset({"HassGetCurrentTime", "HassGetCurrentDate"})

# An unknown device name re-reads the entities at most this often (a burst of them costs one request).
_MIN_REFRESH_INTERVAL_SECS = 2.0

NO_LLM_APOLOGY = (
    "I can't reach my language model right now, but I can still control your devices and tell the time."
)
NO_LLM_APOLOGY_WITHOUT_HOME = "I can't reach my language model right now, but I can still tell the time."


class LanguageModelUnavailable(VoxhubError):
    """The remote language model failed or timed out and the offline agent could not answer instead."""

    code = "llm_unavailable"
    status_code = 503


@dataclass(frozen=True, slots=True)
class OfflineReply:
    """What the offline agent says, which intent it recognized, and whether the action worked."""

    text: str
    intent: str
    slots: Mapping[str, Any] = field(default_factory=dict)
    success: bool = True
    error: VoxhubError | None = None


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _the(name: str) -> str:
    return name if name.casefold().startswith("the ") else f"the {name}"


def _sentence(text: str) -> str:
    """First letter up, the rest (friendly names) as they are."""
    return text[:1].upper() + text[1:]


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _spoken_time(now: datetime) -> str:
    return f"It's {now:%I:%M %p}.".replace("It's 0", "It's ")


def _spoken_date(now: datetime) -> str:
    return f"Today is {now:%A, %B} {now.day}, {now.year}."


class OfflineAgent:
    """Recognizes commands with Home Assistant's sentence templates and carries them out through its REST API."""

    def __init__(
        self,
        matchers: Mapping[str, IntentMatcher],
        client: HomeAssistantClient | None = None,
        *,
        timers: TimerService | None = None,
        clock: Callable[[], datetime] = _local_now,
        entities_max_age_secs: float = 60.0,
    ) -> None:
        self._matchers = dict(matchers)
        self.client = client
        self.timers = timers
        self._clock = clock
        self._entities_max_age_secs = entities_max_age_secs
        self._entities: dict[str, EntityState] = {}
        self._entities_loaded_at = float("-inf")
        self._refresh_error: ToolError | None = None
        self._refresh_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    @classmethod
    async def load(
        cls,
        client: HomeAssistantClient | None = None,
        *,
        timers: TimerService | None = None,
        languages: tuple[str, ...] = ("en",),
        clock: Callable[[], datetime] = _local_now,
    ) -> OfflineAgent:
        """Compile the sentence templates off the event loop, then read Home Assistant's entities (if any)."""
        wanted = [lang for lang in languages if lang in supported_languages()]
        loaded = await asyncio.gather(*(asyncio.to_thread(IntentMatcher.load, lang) for lang in wanted))
        agent = cls({m.language: m for m in loaded if m is not None}, client, timers=timers, clock=clock)
        if client is not None:
            await agent.refresh_entities()
        return agent

    @property
    def entities(self) -> Mapping[str, EntityState]:
        """The entities known by name, as of the last refresh."""
        return self._entities

    async def refresh_entities(self) -> None:
        """Re-read `GET /api/states`; a failure is kept and spoken when a device command needs it."""
        if self.client is None:
            return
        async with self._refresh_lock:
            try:
                states = await self.client.states()
            except ToolError as error:
                logger.warning("offline agent: cannot read Home Assistant's entities: %s", error.message)
                self._refresh_error = error
                self._entities_loaded_at = time.monotonic()
                return
            entities = [s for s in states if s.domain in OFFLINE_DOMAINS]
            self._entities = {e.entity_id: e for e in entities}
            self._refresh_error = None
            self._entities_loaded_at = time.monotonic()
            for matcher in self._matchers.values():
                await asyncio.to_thread(matcher.set_entities, entities)

    def match(self, text: str, language: str = "en") -> IntentMatch | None:
        """The intent `text` expresses, or None (blocking; a few milliseconds)."""
        matcher = self._matchers.get(language.split("-")[0].lower())
        return None if matcher is None else matcher.match(text)

    async def handle(
        self,
        text: str,
        language: str = "en",
        *,
        timers: TimerService | None = None,
        home_questions: bool = True,
    ) -> OfflineReply | None:
        """Answer `text` if it is a command or a question this agent knows; None sends it on to the LLM.

        In order: an exact answer (arithmetic, conversions, dates: `voxhub.agent.exact`), a command from
        Home Assistant's sentences, then a question about the home (answered from Home Assistant's states,
        or with "I'm not connected to Home Assistant" when there is none). `timers` are the conversation's own
        (announced in it), in place of the agent's. `home_questions=False` leaves the home questions to the
        LLM: for a client that controls the home with its own tools (Extended OpenAI Conversation)."""
        matcher = self._matchers.get(language.split("-")[0].lower())
        if matcher is None or not text.strip():
            return None
        self._refresh_if_stale()
        exact = solve(text, self._clock().date()) if matcher.language == "en" else None
        found = await asyncio.to_thread(matcher.match, text)
        # An exact answer wins ("how many minutes in 3 hours" also fits a timer sentence), but "what is the
        # date today" keeps Home Assistant's own intent.
        if exact is not None and (found is None or found.intent not in _CLOCK_INTENTS):
            return OfflineReply(exact.text, "VoxhubExactAnswer", {"kind": exact.kind})
        if found is not None:
            reply = await self._carry_out(found, timers or self.timers)
            if reply is not None:
                return reply
        home = home_request(text) if home_questions and matcher.language == "en" else None
        if self.client is None:
            if home is None:
                return None
            return OfflineReply(
                NOT_CONNECTED, "VoxhubHomeNotConnected", {"request": home.kind}, success=False
            )
        if found is None:
            unknown = await asyncio.to_thread(matcher.unknown_device_name, text)
            if unknown is not None:
                return await self._unknown_device(matcher, text, unknown)
        if home is None or home.kind == "command":
            return None  # an area or a whole domain ("turn off the lights"): the language model decides
        return await self._home_state(home)

    async def _home_state(self, home: HomeRequest) -> OfflineReply:
        """A state or measure question the sentence templates missed, answered from Home Assistant's states."""
        if self._refresh_error is not None:
            return self._failed("HassGetState", {}, self._refresh_error)
        try:
            answer = await read_home(home, self._entities, self._client())
        except ToolError as error:
            return self._failed("HassGetState", {"name": home.thing}, error)
        return OfflineReply(answer.text, "HassGetState", answer.slots, success=answer.success)

    def _client(self) -> HomeAssistantClient:
        assert self.client is not None
        return self.client

    async def fallback_reply(
        self,
        text: str,
        reason: str | VoxhubError,
        language: str = "en",
        *,
        timers: TimerService | None = None,
    ) -> OfflineReply:
        """The answer when the language model failed: a matched command's result, else a short apology."""
        reply = await self.handle(text, language, timers=timers)
        if reply is not None:
            return reply
        why = reason.message if isinstance(reason, VoxhubError) else reason
        apology = NO_LLM_APOLOGY if self.client is not None else NO_LLM_APOLOGY_WITHOUT_HOME
        return OfflineReply(
            apology,
            "fallback",
            {},
            success=False,
            error=LanguageModelUnavailable(why, details={"text": text}),
        )

    async def aclose(self) -> None:
        """Stop background refreshes (the client belongs to the caller)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _refresh_if_stale(self) -> None:
        stale = time.monotonic() - self._entities_loaded_at > self._entities_max_age_secs
        if self.client is not None and stale and not self._refresh_lock.locked():
            task = asyncio.create_task(self.refresh_entities())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _unknown_device(self, matcher: IntentMatcher, text: str, name: str) -> OfflineReply:
        """A command names no known device: re-read the entities (it may be new), else say so."""
        if time.monotonic() - self._entities_loaded_at > _MIN_REFRESH_INTERVAL_SECS:
            await self.refresh_entities()
        if self._refresh_error is not None:
            return self._failed("unknown_device", {"name": name}, self._refresh_error)
        found = await asyncio.to_thread(matcher.match, text)
        reply = None if found is None else await self._carry_out(found, self.timers)
        return reply or self._failed("unknown_device", {"name": name}, UnknownEntityError(name))

    async def _carry_out(self, found: IntentMatch, timers: TimerService | None) -> OfflineReply | None:
        handlers: dict[str, Callable[[IntentMatch], Awaitable[OfflineReply | None]]] = {
            "HassGetCurrentTime": self._current_time,
            "HassGetCurrentDate": self._current_date,
            "HassTurnOn": self._turn_on,
            "HassTurnOff": self._turn_off,
            "HassLightSet": self._light_set,
            "HassClimateSetTemperature": self._set_temperature,
            "HassClimateGetTemperature": self._get_temperature,
            "HassGetState": self._get_state,
            "HassStartTimer": functools.partial(self._start_timer, timers=timers),
            "HassCancelTimer": functools.partial(self._cancel_timer, timers=timers),
        }
        handler = handlers.get(found.intent)
        if handler is None:
            return None
        try:
            return await handler(found)
        except ToolError as error:
            return self._failed(found.intent, found.slots, error)

    def _failed(self, intent: str, slots: Mapping[str, Any], error: ToolError) -> OfflineReply:
        return OfflineReply(error.spoken, intent, dict(slots), success=False, error=error)

    def _entity(self, found: IntentMatch) -> EntityState | None:
        entity_id = found.slots.get("name")
        return self._entities.get(str(entity_id)) if entity_id else None

    async def _current_time(self, found: IntentMatch) -> OfflineReply:
        return OfflineReply(_spoken_time(self._clock()), found.intent, {})

    async def _current_date(self, found: IntentMatch) -> OfflineReply:
        return OfflineReply(_spoken_date(self._clock()), found.intent, {})

    async def _turn_on(self, found: IntentMatch) -> OfflineReply | None:
        return await self._switch(found, _ON_SERVICES, "turn_on", "Turned on")

    async def _turn_off(self, found: IntentMatch) -> OfflineReply | None:
        return await self._switch(found, _OFF_SERVICES, "turn_off", "Turned off")

    async def _switch(
        self, found: IntentMatch, special: Mapping[str, tuple[str, str]], service: str, verb: str
    ) -> OfflineReply | None:
        entity = self._entity(found)
        if entity is None or self.client is None:
            return None  # an area or a whole domain ("turn off the lights"): the language model decides
        domain = entity.domain
        if domain in special:
            service, verb = special[domain]
        elif domain not in _TOGGLE_DOMAINS:
            domain = "homeassistant"
        await self.client.call_service(domain, service, {"entity_id": entity.entity_id})
        return OfflineReply(f"{verb} {_the(entity.name)}.", found.intent, {"name": entity.entity_id})

    async def _light_set(self, found: IntentMatch) -> OfflineReply | None:
        entity = self._entity(found)
        if entity is None or self.client is None:
            return None
        data: dict[str, Any] = {"entity_id": entity.entity_id}
        if "brightness" in found.slots:
            data["brightness_pct"] = float(found.slots["brightness"])
            said = f"{_number(found.slots['brightness'])} percent"
        elif "color" in found.slots:
            data["color_name"] = str(found.slots["color"])
            said = str(found.slots["color"])
        else:
            return None
        await self.client.call_service("light", "turn_on", data)
        return OfflineReply(f"Set {_the(entity.name)} to {said}.", found.intent, data)

    async def _set_temperature(self, found: IntentMatch) -> OfflineReply | None:
        entity = self._entity(found) or self._only_thermostat()
        if entity is None or self.client is None or "temperature" not in found.slots:
            return None
        data = {"entity_id": entity.entity_id, "temperature": float(found.slots["temperature"])}
        await self.client.call_service("climate", "set_temperature", data)
        degrees = _number(found.slots["temperature"])
        return OfflineReply(f"Set {_the(entity.name)} to {degrees} degrees.", found.intent, data)

    async def _get_temperature(self, found: IntentMatch) -> OfflineReply | None:
        entity = self._entity(found) or self._only_thermostat()
        if entity is None or self.client is None:
            return None
        current = (await self.client.state(entity.entity_id)).attributes.get("current_temperature")
        if current is None:
            return None
        text = _sentence(f"{_the(entity.name)} reads {_number(current)} degrees.")
        return OfflineReply(text, found.intent, {"name": entity.entity_id, "temperature": current})

    async def _get_state(self, found: IntentMatch) -> OfflineReply | None:
        entity = self._entity(found)
        if entity is None or self.client is None:
            return None
        state = await self.client.state(entity.entity_id)
        unit = state.attributes.get("unit_of_measurement")
        said = f"{state.state} {unit}" if unit else state.state
        text = _sentence(f"{_the(entity.name)} is {said}.")
        asked = found.slots.get("state")  # "is the kitchen light on" → yes or no first
        if asked is not None:
            answer = "Yes" if str(asked).casefold() == state.state.casefold() else "No"
            text = f"{answer}, {_the(entity.name)} is {said}."
        return OfflineReply(text, found.intent, {"name": entity.entity_id, "state": state.state})

    async def _start_timer(self, found: IntentMatch, *, timers: TimerService | None) -> OfflineReply | None:
        if timers is None:
            return None  # no timer service here: the language model may have a timer tool
        slots = found.slots
        duration_secs = (
            float(slots.get("hours", 0)) * 3600
            + float(slots.get("minutes", 0)) * 60
            + float(slots.get("seconds", 0))
        )
        timer = timers.start(duration_secs, str(slots["name"]) if "name" in slots else None)
        duration = describe_duration(timer.duration_secs)
        text = (
            f"Your {timer.name} timer is set for {duration}." if timer.name else f"Timer set for {duration}."
        )
        return OfflineReply(text, found.intent, {"duration_secs": duration_secs, "name": timer.name})

    async def _cancel_timer(self, found: IntentMatch, *, timers: TimerService | None) -> OfflineReply | None:
        if timers is None:
            return None
        if "name" in found.slots:
            timer = timers.cancel(str(found.slots["name"]))
        else:
            running = timers.timers()
            if len(running) != 1:
                spoken = (
                    "You have no timers running."
                    if not running
                    else f"You have {len(running)} timers running; which one should I cancel?"
                )
                raise ToolError(f"{len(running)} timers running, none named", spoken=spoken)
            timer = timers.cancel(running[0].id)
        return OfflineReply(f"Cancelled your {timer.label}.", found.intent, {"name": timer.name})

    def _only_thermostat(self) -> EntityState | None:
        thermostats = [e for e in self._entities.values() if e.domain == "climate"]
        return thermostats[0] if len(thermostats) == 1 else None

    def matcher(self, language: str = "en") -> IntentMatcher | None:
        """The sentence matcher of `language` (None: none loaded), to copy for entities a client lists."""
        return self._matchers.get(language.split("-")[0].lower())
