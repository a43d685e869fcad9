"""The offline conversation agent: Home Assistant-style commands answered locally, with no language model.

Sentences are matched the way Assist matches them (hassil over home-assistant-intents' templates, with the
entities, areas, floors and aliases of Home Assistant's registries as slot lists, and the satellite's area as
context); `voxhub.agent.offline_actions` carries out home intents, `voxhub.agent.offline_timers` timer ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from voxhub.agent.exact import solve
from voxhub.agent.ha_registry import HomeRegistry, RegistryWatcher
from voxhub.agent.ha_targets import HomeEntity, home_entities
from voxhub.agent.home_phrases import NOT_CONNECTED, HomeRequest, home_request, read_home
from voxhub.agent.homeassistant import EntityState, HomeAssistantClient, UnknownEntityError
from voxhub.agent.intent_responses import localized_reply
from voxhub.agent.intents import IntentMatch, IntentMatcher, supported_languages
from voxhub.agent.offline_actions import HOME_HANDLERS, HomeView
from voxhub.agent.offline_reply import OfflineReply, failed
from voxhub.agent.offline_timers import TIMER_HANDLERS
from voxhub.agent.tools.base import ToolError
from voxhub.agent.tools.homeassistant import DEFAULT_EXPOSED_DOMAINS
from voxhub.agent.tools.timers import TimerService
from voxhub.errors import VoxhubError

__all__ = ["LanguageModelUnavailable", "OfflineAgent", "OfflineReply"]

logger = logging.getLogger(__name__)

# Entities the offline agent can name where Home Assistant keeps no exposure setting for them: what Assist
# exposes by default, plus helpers and sensors people ask about.
OFFLINE_DOMAINS = DEFAULT_EXPOSED_DOMAINS | {"input_boolean", "sensor", "binary_sensor"}

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


def _local_now() -> datetime:
    return datetime.now().astimezone()


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
        registry: RegistryWatcher | None = None,
    ) -> None:
        self._matchers = dict(matchers)
        self.client = client
        self.timers = timers
        self._clock = clock
        self._entities_max_age_secs = entities_max_age_secs
        self._states: list[EntityState] = []
        self._home: list[HomeEntity] = []
        self._entities: dict[str, EntityState] = {}
        self._entities_loaded_at = float("-inf")
        self._refresh_error: ToolError | None = None
        self._refresh_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._watcher = registry
        self._changed = asyncio.Condition()
        if registry is not None:
            registry.on_change = self._registry_changed

    @classmethod
    async def load(
        cls,
        client: HomeAssistantClient | None = None,
        *,
        timers: TimerService | None = None,
        languages: tuple[str, ...] = ("en",),
        clock: Callable[[], datetime] = _local_now,
        watch_registry: bool = True,
    ) -> OfflineAgent:
        """Compile the sentence templates off the event loop, then read Home Assistant's entities (if any) and
        (with `watch_registry`) its registries, kept current over its WebSocket API from then on."""
        wanted = [lang for lang in languages if lang in supported_languages()]
        loaded = await asyncio.gather(*(asyncio.to_thread(IntentMatcher.load, lang) for lang in wanted))
        watcher = None
        if client is not None and watch_registry:
            watcher = RegistryWatcher(client.websocket_url, client.token, timeout_secs=client.timeout_secs)
        agent = cls(
            {m.language: m for m in loaded if m is not None},
            client,
            timers=timers,
            clock=clock,
            registry=watcher,
        )
        if client is not None:
            await agent.refresh_entities()
        if watcher is not None:
            watcher.start()
        return agent

    @property
    def entities(self) -> Mapping[str, EntityState]:
        """The entities exposed to Assist, by id, as of the last refresh."""
        return self._entities

    @property
    def home(self) -> list[HomeEntity]:
        """The exposed entities with their names, aliases and areas."""
        return self._home

    @property
    def registry(self) -> HomeRegistry | None:
        return None if self._watcher is None else self._watcher.registry

    async def refresh_entities(self) -> None:
        """Re-read `GET /api/states` (and the registries, if never read); a failure is kept and spoken when a
        device command needs it."""
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
            if self._watcher is not None and self._watcher.registry is None:
                try:
                    self._watcher.registry = await self._watcher.read_once()
                except (ToolError, Exception) as error:  # no WebSocket API: names from the states alone
                    logger.warning("offline agent: cannot read Home Assistant's registries: %r", error)
            self._states = states
            self._refresh_error = None
            self._entities_loaded_at = time.monotonic()
            await self._rebuild()

    async def wait_for_home(
        self, predicate: Callable[[OfflineAgent], bool], timeout_secs: float = 30.0
    ) -> None:
        """Wait until `predicate(self)` holds, checked after each change of the registries or entities."""
        async with asyncio.timeout(timeout_secs), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _registry_changed(self, registry: HomeRegistry) -> None:
        """A registry changed: read the states again too (a new entity has one now), then rebuild."""
        await self.refresh_entities()

    async def _rebuild(self) -> None:
        home = home_entities(self._states, self.registry, OFFLINE_DOMAINS)
        for matcher in self._matchers.values():
            await asyncio.to_thread(matcher.set_home, home, self.registry)
        self._home = home
        self._entities = {e.entity_id: e.state for e in home}
        async with self._changed:
            self._changed.notify_all()

    def match(self, text: str, language: str = "en", area: str | None = None) -> IntentMatch | None:
        """The intent `text` expresses, or None (blocking; a few milliseconds)."""
        matcher = self._matchers.get(language.split("-")[0].lower())
        return None if matcher is None else matcher.match(text, self._area_id(area))

    def _area_id(self, area: str | None) -> str | None:
        """An area given by id or by name (or alias), as its id."""
        registry = self.registry
        if area is None or registry is None:
            return area
        wanted = area.casefold()
        for known in registry.areas.values():
            if wanted in (known.area_id.casefold(), *(n.casefold() for n in (known.name, *known.aliases))):
                return known.area_id
        return area

    async def handle(
        self,
        text: str,
        language: str = "en",
        *,
        timers: TimerService | None = None,
        home_questions: bool = True,
        area: str | None = None,
    ) -> OfflineReply | None:
        """Answer `text` if it is a command or a question this agent knows; None sends it on to the LLM.

        In order: an exact answer (arithmetic, conversions, dates: `voxhub.agent.exact`), a command from
        Home Assistant's sentences, then a question about the home (answered from Home Assistant's states,
        or with "I'm not connected to Home Assistant" when there is none). `timers` are the conversation's own
        (announced in it), in place of the agent's; `area` is where it was said (a satellite's area, by id or
        name), for "turn off the lights". `home_questions=False` leaves the home questions to the LLM: for a
        client that controls the home with its own tools (Extended OpenAI Conversation)."""
        matcher = self._matchers.get(language.split("-")[0].lower())
        if matcher is None or not text.strip():
            return None
        self._refresh_if_stale()
        area_id = self._area_id(area)
        exact = solve(text, self._clock().date()) if matcher.language == "en" else None
        found = await asyncio.to_thread(matcher.match, text, area_id)
        # An exact answer wins ("how many minutes in 3 hours" also fits a timer sentence), but "what is the
        # date today" keeps Home Assistant's own intent.
        if exact is not None and (found is None or found.intent not in _CLOCK_INTENTS):
            return OfflineReply(exact.text, "VoxhubExactAnswer", {"kind": exact.kind})
        if found is not None:
            reply = await self._carry_out(found, timers or self.timers, area_id)
            if reply is not None:
                return self._in_language(matcher.language, found, reply)
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
                return await self._unknown_device(matcher, text, unknown, area_id)
        if home is not None and self._refresh_error is not None:
            return failed("HassGetState" if home.kind != "command" else "unknown", {}, self._refresh_error)
        if home is None or home.kind == "command":
            return None  # a whole domain with no area ("turn off the lights"): the language model decides
        return await self._home_state(home)

    @staticmethod
    def _in_language(language: str, found: IntentMatch, reply: OfflineReply) -> OfflineReply:
        """`reply` said with Home Assistant's response template of `language`, when it worked and one exists."""
        if language == "en" or not reply.success:
            return reply
        slots = {**found.slots, **found.slot_texts}
        text = localized_reply(language, found.intent, found.response, slots)
        return reply if text is None else replace(reply, text=text)

    async def _home_state(self, home: HomeRequest) -> OfflineReply:
        """A state or measure question the sentence templates missed, answered from Home Assistant's states."""
        try:
            answer = await read_home(home, self._entities, self._client())
        except ToolError as error:
            return failed("HassGetState", {"name": home.thing}, error)
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
        area: str | None = None,
    ) -> OfflineReply:
        """The answer when the language model failed: a matched command's result, else a short apology."""
        reply = await self.handle(text, language, timers=timers, area=area)
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
        """Stop background refreshes and the registry watch (the client belongs to the caller)."""
        if self._watcher is not None:
            await self._watcher.aclose()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _refresh_if_stale(self) -> None:
        stale = time.monotonic() - self._entities_loaded_at > self._entities_max_age_secs
        if self.client is not None and stale and not self._refresh_lock.locked():
            task = asyncio.create_task(self.refresh_entities())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _unknown_device(
        self, matcher: IntentMatcher, text: str, name: str, area_id: str | None
    ) -> OfflineReply:
        """A command names no known device: re-read the entities (it may be new), else say so."""
        if time.monotonic() - self._entities_loaded_at > _MIN_REFRESH_INTERVAL_SECS:
            await self.refresh_entities()
        if self._refresh_error is not None:
            return failed("unknown_device", {"name": name}, self._refresh_error)
        found = await asyncio.to_thread(matcher.match, text, area_id)
        reply = None if found is None else await self._carry_out(found, self.timers, area_id)
        return reply or failed("unknown_device", {"name": name}, UnknownEntityError(name))

    async def _carry_out(
        self, found: IntentMatch, timers: TimerService | None, area_id: str | None
    ) -> OfflineReply | None:
        try:
            if found.intent == "HassGetCurrentTime":
                return OfflineReply(_spoken_time(self._clock()), found.intent, {})
            if found.intent == "HassGetCurrentDate":
                return OfflineReply(_spoken_date(self._clock()), found.intent, {})
            if found.intent in TIMER_HANDLERS:
                # no timer service here: the language model may have a timer tool
                return None if timers is None else await TIMER_HANDLERS[found.intent](timers, found)
            handler = HOME_HANDLERS.get(found.intent)
            if handler is None or self.client is None:
                return None
            if self._refresh_error is not None:
                raise self._refresh_error
            view = HomeView(self.client, self._home, self.registry, area_id)
            return await handler(view, found)
        except ToolError as error:
            return failed(found.intent, found.slots, error)

    def matcher(self, language: str = "en") -> IntentMatcher | None:
        """The sentence matcher of `language` (None: none loaded), to copy for entities a client lists."""
        return self._matchers.get(language.split("-")[0].lower())
