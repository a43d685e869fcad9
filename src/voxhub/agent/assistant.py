"""The assistant as a server keeps it: personas, notes, tools, emotion and the offline agent, loaded once."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from voxhub.agent.autofunction.service import AutoFunctionService
from voxhub.agent.brain import Brain, BrainOptions, EmotionLabeller
from voxhub.agent.emotion import EmotionRecognizer
from voxhub.agent.homeassistant import HomeAssistantClient
from voxhub.agent.memory import HistoryCompactor, UserNotes
from voxhub.agent.offline import OfflineAgent
from voxhub.agent.personas import Persona, PersonaStore
from voxhub.agent.session_timers import HomeAssistantNotifier, SessionTimers, timer_event
from voxhub.agent.spoken import speakable
from voxhub.agent.tools.builtin import builtin_tools
from voxhub.agent.tools.homeassistant import homeassistant_tools, native_factories
from voxhub.agent.tools.loader import build_toolbox
from voxhub.agent.tools.registry import ToolRegistry
from voxhub.agent.tools.timers import Timer
from voxhub.engines.llm.base import LlmEngine
from voxhub.errors import VoxhubError
from voxhub.language import first_language
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.reply import ReplyOptions
from voxhub.sessions.live import AgentSetup
from voxhub.sessions.manager import Session
from voxhub.sessions.store import Store
from voxhub.sessions.timer_store import TimerStore

if TYPE_CHECKING:
    from pathlib import Path

    from voxhub.config import Settings

logger = logging.getLogger(__name__)

TIMER_TOOLS = frozenset({"set_timer", "cancel_timer", "list_timers"})


@dataclass
class Assistant:
    """One per server. `setup` makes the reply source and options of each conversation."""

    settings: Settings
    personas: PersonaStore
    notes: UserNotes
    tools: ToolRegistry | None = None
    emotion: EmotionLabeller | None = None
    offline: OfflineAgent | None = None
    homeassistant: HomeAssistantClient | None = None
    autofunctions: AutoFunctionService | None = None
    timers: SessionTimers = field(default_factory=SessionTimers)  # each session's, outliving its turns
    _closers: tuple[Callable[[], object], ...] = ()

    async def setup(
        self, session: Session, llm: LlmEngine, reply: ReplyOptions, language: str | None
    ) -> AgentSetup:
        config = session.config
        persona = await self.personas.find(config.persona)
        # `auto`: each spoken turn's answer follows the language heard; typed ones are in this one.
        language = first_language(language, persona.language) or self.settings.tts_language
        user_id = config.user_id
        brain = self.brain(
            llm, persona, language, notes_prompt=await self.notes.prompt(user_id) if user_id else ""
        )
        timers = self.timers.of(session.id)  # the session's: they ring on its open conversations
        brain.timers = timers
        brain.area = config.area
        brain.own_tools = own = ToolRegistry(timeout_secs=self.settings.tools_timeout_secs)
        timer_tools = [tool for tool in builtin_tools(timers) if tool.spec.name in TIMER_TOOLS]
        for tool in (*timer_tools, *(self.notes.tools(user_id) if user_id else ())):
            own.register(tool)

        def attach(conversation: Conversation) -> Callable[[], Awaitable[None]]:
            async def announce(timer: Timer) -> None:
                await conversation.notice("timer_finished", timer_event(timer))
                await conversation.say(timer.announcement)

            return self.timers.attach(session.id, announce)

        options = replace(
            reply,
            system_prompt=config.system_prompt or self._prompt(persona),
            max_tokens=persona.max_text_tokens or reply.max_tokens,
            max_spoken_tokens=persona.max_spoken_tokens,
            persona=persona.name,
            user_id=user_id,
            language=language,
        )
        return AgentSetup(
            replies=brain,
            reply=options,
            voice=config.voice or persona.voice,
            speakable=functools.partial(_speakable_in, language),
            greeting=persona.greeting if self.settings.greeting_enabled else None,
            attach=attach,
            language=persona.language,
        )

    def _prompt(self, persona: Persona) -> str:
        """The persona's prompt, then the `system_prompt` setting if it was changed from its default."""
        extra = self.settings.system_prompt
        if extra == type(self.settings).model_fields["system_prompt"].default:
            return persona.system_prompt()
        return f"{persona.system_prompt()}\n{extra}"

    def brain(self, llm: LlmEngine, persona: Persona, language: str, *, notes_prompt: str = "") -> Brain:
        """A brain for one conversation (also used by one-shot APIs that run no pipeline)."""
        return Brain(
            llm,
            BrainOptions(
                language=language,
                offline_first=self.settings.agent_offline_first,
                match_tone=persona.match_tone,
                acknowledgements=persona.acknowledgements,
                max_tool_calls=self.settings.tools_max_calls_per_turn,
                notes_prompt=notes_prompt,
            ),
            tools=self.tools,
            emotion=self.emotion,
            offline=self.offline,
            compactor=HistoryCompactor(llm),
        )

    @classmethod
    async def load(
        cls, settings: Settings, store: Store, llm: Callable[[], Awaitable[LlmEngine]]
    ) -> Assistant:
        """Everything the settings ask for; what cannot load is logged and left out, never fatal."""
        closers: list[Callable[[], object]] = []
        emotion: EmotionLabeller | None = None
        if settings.emotion_enabled:
            try:
                emotion = await asyncio.to_thread(_shared_recognizer, settings.models_root)
            except VoxhubError as exc:
                logger.warning("emotion recognition is off: %s", exc.message, extra={"error": exc.code})
        client = HomeAssistantClient.from_settings(settings)
        if client is not None:
            closers.append(client.aclose)
        # The offline agent understands the languages speech may come in (with `auto`, the ones it may be).
        heard = settings.stt_auto_languages if settings.stt_language == "auto" else [settings.stt_language]
        languages = tuple(dict.fromkeys(["en", *heard, settings.tts_language or "en"]))
        offline = await OfflineAgent.load(client, languages=languages)
        closers.append(offline.aclose)
        notify = None
        if client is not None and settings.homeassistant_timer_notify:
            notify = HomeAssistantNotifier(client, settings.homeassistant_timer_notify)
        timers = SessionTimers(notify, store=TimerStore(store))
        closers.append(timers.aclose)
        try:
            await timers.restore()  # the timers running when voxhub stopped run on (or ring now)
        except Exception as exc:
            logger.warning("the stored timers could not be restored: %s", exc)
        if store.backend == "postgresql":  # other instances may set timers in it
            timers.rescan_every()
        tools = await _tools(settings, client, closers)
        documents = store if store.backend == "postgresql" else None  # SQLite installs keep their files
        autofunctions = AutoFunctionService(settings, llm, tools, documents=documents)
        await autofunctions.start()  # the tools approved before are live again
        return cls(
            settings,
            PersonaStore(settings.data_dir / "personas", documents),
            UserNotes(store),
            tools=tools,
            emotion=emotion,
            offline=offline,
            homeassistant=client,
            autofunctions=autofunctions,
            timers=timers,
            _closers=tuple(closers),
        )

    async def aclose(self) -> None:
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                result = close()
                if asyncio.iscoroutine(result):
                    await result


def _speakable_in(default: str, text: str, language: str | None) -> str:
    """`text` for the ear in the turn's `language`, or the conversation's `default`."""
    return speakable(text, language or default)


@functools.cache
def _shared_recognizer(models_root: Path) -> EmotionRecognizer:
    """One recognizer per process (it is thread-safe): apps started in one process share it."""
    return EmotionRecognizer.from_models_root(models_root)


async def _tools(
    settings: Settings, client: HomeAssistantClient | None, closers: list[Callable[[], object]]
) -> ToolRegistry:
    extra = homeassistant_tools(client) if client is not None else []
    factories = native_factories(client) if client is not None else None
    toolbox = await build_toolbox(settings, extra_tools=extra, native_factories=factories)
    closers.append(toolbox.aclose)
    return toolbox.registry
