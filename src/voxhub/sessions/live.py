"""A session brought to life: its conversation pipeline, built from its config, profile and history."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from voxhub.engines.llm.base import ChatMessage, LlmEngine
from voxhub.engines.tts.base import TtsEngine
from voxhub.errors import VoxhubError
from voxhub.language import first_language, is_auto
from voxhub.pipeline.conversation import Conversation, ConversationEngines, ConversationOptions
from voxhub.pipeline.frames import ErrorFrame
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.memory import CompletedTurn, ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.output import Send
from voxhub.pipeline.reply import LlmReplies, ReplyOptions, ReplySource
from voxhub.pipeline.speaker import VoiceOptions
from voxhub.pipeline.timing import LatencyObserver
from voxhub.sessions.errors import ProfileNotFound
from voxhub.sessions.manager import Session, SessionManager
from voxhub.sessions.models import HistoryMessage
from voxhub.sessions.profiles import DEFAULT_PROFILE, PREDEFINED, Profile

if TYPE_CHECKING:
    from voxhub.config import Settings
    from voxhub.engines.pool import EnginePool

_log = logging.getLogger(__name__)
HISTORY_MESSAGES = 200  # at most this many messages after the summary are loaded; all stay in the store


@dataclass(frozen=True, slots=True)
class AgentSetup:
    """What the assistant brain makes of a session: who answers, how, in which voice, saying what first."""

    replies: ReplySource
    reply: ReplyOptions
    voice: str | None
    speakable: Callable[[str, str | None], str] | None  # rewrites sentences for the ear, in a language
    greeting: str | None  # said at the start of a session with no history yet
    # Called with the conversation once it runs; returns what to do when it closes.
    attach: Callable[[Conversation], Callable[[], Awaitable[None]]] | None = None
    language: str | None = None  # the persona's, for a session that names none


class ConversationAgent(Protocol):
    async def setup(
        self, session: Session, llm: LlmEngine, reply: ReplyOptions, language: str | None
    ) -> AgentSetup: ...


async def session_profile(manager: SessionManager, session: Session) -> Profile:
    """The session's listening profile; the default if a custom one was deleted since."""
    try:
        return await manager.profile(session.config.profile)
    except ProfileNotFound:
        return PREDEFINED[DEFAULT_PROFILE]


def reply_options(session: Session, settings: Settings) -> ReplyOptions:
    return ReplyOptions(
        system_prompt=session.config.system_prompt or settings.system_prompt,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
    )


async def open_conversation(
    session: Session,
    manager: SessionManager,
    engines: EnginePool,
    settings: Settings,
    *,
    send: Send,
    metrics: LatencyObserver | None = None,
    input_rate_hz: int = 16000,
    paced: bool = True,
    activation: str | None = None,
    agent: ConversationAgent | None = None,
) -> Conversation:
    """Build and start the conversation of `session`; `paced=False` sends audio as fast as it is made."""
    config = session.config
    profile = await session_profile(manager, session)
    warnings: list[ErrorFrame] = []
    if profile.activation == "wake_word":
        profile, warning = await _usable_wake_words(profile, engines)
        warnings += [warning] if warning is not None else []
    if activation is not None:
        profile = replace(profile, activation=activation)  # type: ignore[arg-type]
    language = config.language or profile.language
    conversation_engines = ConversationEngines(
        vad=await engines.get("vad", None),
        stt=await engines.get("stt", config.stt_engine),
        tts=await engines.get("tts", config.tts_engine),
        llm=await engines.get("llm", config.llm_engine),
        wake=await engines.get("wake", None) if profile.activation == "wake_word" else None,
        turn=await engines.turn_engine(),
    )
    reply = reply_options(session, settings)
    setup = AgentSetup(LlmReplies(conversation_engines.llm), reply, config.voice, None, None)
    if agent is not None:
        setup = await agent.setup(session, conversation_engines.llm, reply, language)
        conversation_engines = replace(conversation_engines, replies=setup.replies)
        language = language or setup.language  # the persona's
    heard = language or settings.stt_language
    # With `auto` the answer follows the language heard; the voice starts in the persona's or the default.
    spoken = first_language(language, setup.language) or settings.tts_language
    if is_auto(heard):
        conversation_engines = replace(
            conversation_engines, tts_other_languages=await _any_language_tts(engines)
        )
    listening = ListeningOptions(
        activation=profile.activation,
        wake_words=profile.wake_words or tuple(settings.wake_words),
        wake_sensitivity=profile.wake_sensitivity,
        vad_threshold=profile.vad_threshold,
        follow_up_secs=profile.follow_up_secs,
        start_secs=_first(profile.vad_start_secs, settings.vad_start_secs),
        stop_secs=_first(profile.vad_stop_secs, settings.vad_stop_secs),
        min_speech_secs=_first(profile.min_speech_secs, settings.vad_min_speech_secs),
        max_utterance_secs=settings.vad_max_utterance_secs,
        language=heard,
        partials=config.partial_transcripts,
    )
    options = ConversationOptions(
        reply=setup.reply,
        listening=listening,
        voice=VoiceOptions(
            voice=setup.voice,
            language=spoken,
            avatar=config.avatar,
            speakable=setup.speakable,
        ),
        input_rate_hz=input_rate_hz,
        output_lead_ms=300.0 if paced else float("inf"),
    )
    summary = await manager.store.summary(session.id)
    covered = summary[1] if summary else 0
    stored = await manager.store.history_after(session.id, covered, HISTORY_MESSAGES)
    history = [
        ChatMessage(message.role, message.content, message.tool_calls, message.tool_call_id)
        for message in _whole_exchanges(stored)
        if message.content or message.tool_calls
    ]
    if summary:
        history.insert(0, ChatMessage("system", summary[0]))
    # Stored messages before the ones in memory: a summary made later covers them and what it replaced.
    before = await manager.store.message_count(session.id) - len(stored)

    async def commit_summary(text: str, replaced: int) -> None:
        nonlocal before
        before += replaced
        await manager.store.save_summary(session.id, text, before)

    async def commit(turn: CompletedTurn) -> None:
        now = time.time()
        answer = HistoryMessage(
            "assistant",
            turn.assistant_text,
            turn.turn_id,
            interrupted=turn.interrupted,
            created_at=now,
            tool_calls=turn.tool_calls,
        )
        await manager.append(
            session.id,
            [*(_stored(message, turn.turn_id, now) for message in (*turn.inputs, *turn.exchange)), answer],
        )

    conversation = Conversation(
        conversation_engines,
        options,
        mode=ModeState(**config.mode.to_dict()),
        memory=ConversationMemory(history, commit, commit_summary),
        send=send,
        metrics=metrics,
    )
    conversation.warnings = warnings
    await conversation.start()
    if setup.attach is not None:
        conversation.on_close(setup.attach(conversation))
    if not stored:  # a new conversation: the caller may say it (`conversation.say`)
        conversation.greeting = setup.greeting
    return conversation


async def _usable_wake_words(profile: Profile, engines: EnginePool) -> tuple[Profile, ErrorFrame | None]:
    """A stored profile naming wake words the engine lacks listens on voice activity instead (and says so)."""
    known = (await engines.get("wake", None)).capabilities.wake_words
    unknown = [word for word in profile.wake_words if word not in known]
    if not unknown:
        return profile, None
    usable = tuple(word for word in profile.wake_words if word in known)
    if usable:
        fallback = replace(profile, wake_words=usable)
    else:
        fallback = replace(PREDEFINED["vad-triggered"], name=profile.name, language=profile.language)
    message = (
        f"profile {profile.name!r} names unknown wake word {unknown[0]!r} (known: {', '.join(known)}); "
        + ("listening for " + ", ".join(usable) if usable else "listening on voice activity instead")
    )
    return fallback, ErrorFrame("invalid_profile", message, {"unknown": unknown, "known": list(known)})


async def _any_language_tts(engines: EnginePool) -> TtsEngine | None:
    """espeak-ng, which speaks every language Whisper hears, for answers the session's TTS cannot speak."""
    try:
        return await engines.get("tts", "espeak")
    except VoxhubError as exc:
        _log.warning("answers in other languages keep the session's voice: %s", exc.message)
        return None


def _stored(message: ChatMessage, turn_id: str, now: float) -> HistoryMessage:
    return HistoryMessage(
        message.role,
        message.content,
        turn_id,
        created_at=now,
        tool_calls=message.tool_calls,
        tool_call_id=message.tool_call_id,
    )


def _whole_exchanges(stored: list[HistoryMessage]) -> list[HistoryMessage]:
    """Drop tool results cut from their call by the history limit: an LLM rejects an orphan tool message."""
    start = 0
    while start < len(stored) and stored[start].role == "tool":
        start += 1
    return stored[start:]


def _first(*values: Any) -> Any:
    return next(value for value in values if value is not None)
