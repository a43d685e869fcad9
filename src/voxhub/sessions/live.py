"""A session brought to life: its conversation pipeline, built from its config, profile and history."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from voxhub.engines.llm.base import ChatMessage
from voxhub.pipeline.conversation import Conversation, ConversationEngines, ConversationOptions
from voxhub.pipeline.listener import ListeningOptions
from voxhub.pipeline.memory import CompletedTurn, ConversationMemory
from voxhub.pipeline.modes import ModeState
from voxhub.pipeline.output import Send
from voxhub.pipeline.reply import ReplyOptions
from voxhub.pipeline.speaker import VoiceOptions
from voxhub.pipeline.timing import LatencyObserver
from voxhub.sessions.errors import ProfileNotFound
from voxhub.sessions.manager import Session, SessionManager
from voxhub.sessions.models import HistoryMessage
from voxhub.sessions.profiles import DEFAULT_PROFILE, PREDEFINED, Profile

if TYPE_CHECKING:
    from voxhub.config import Settings
    from voxhub.engines.pool import EnginePool

HISTORY_TURNS = 40  # messages of history given to the LLM; older ones stay in the store


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
) -> Conversation:
    """Build and start the conversation of `session`; `paced=False` sends audio as fast as it is made."""
    config = session.config
    profile = await session_profile(manager, session)
    if activation is not None:
        profile = replace(profile, activation=activation)  # type: ignore[arg-type]
    language = config.language or profile.language
    listening = ListeningOptions(
        activation=profile.activation,
        wake_words=profile.wake_words or tuple(settings.wake_words),
        follow_up_secs=profile.follow_up_secs,
        start_secs=_first(profile.vad_start_secs, settings.vad_start_secs),
        stop_secs=_first(profile.vad_stop_secs, settings.vad_stop_secs),
        min_speech_secs=_first(profile.min_speech_secs, settings.vad_min_speech_secs),
        max_utterance_secs=settings.vad_max_utterance_secs,
        language=language or settings.stt_language,
    )
    conversation_engines = ConversationEngines(
        vad=await engines.get("vad", None),
        stt=await engines.get("stt", config.stt_engine),
        tts=await engines.get("tts", config.tts_engine),
        llm=await engines.get("llm", config.llm_engine),
        wake=await engines.get("wake", None) if profile.activation == "wake_word" else None,
    )
    options = ConversationOptions(
        reply=reply_options(session, settings),
        listening=listening,
        voice=VoiceOptions(
            voice=config.voice, language=language or settings.tts_language, avatar=config.avatar
        ),
        input_rate_hz=input_rate_hz,
        output_lead_ms=300.0 if paced else float("inf"),
    )
    stored = await manager.history(session.id, HISTORY_TURNS)
    history = [
        ChatMessage(message.role, message.content, message.tool_calls, message.tool_call_id)
        for message in _whole_exchanges(stored)
        if message.content or message.tool_calls
    ]

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
        memory=ConversationMemory(history, commit),
        send=send,
        metrics=metrics,
    )
    await conversation.start()
    return conversation


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
