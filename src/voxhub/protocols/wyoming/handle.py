"""handle: a `transcript` is one conversation turn of a voxhub session; the answer comes back `handled`."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from wyoming.asr import Transcript
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled

from voxhub.errors import InputError, VoxhubError
from voxhub.pipeline.frames import ErrorFrame, Frame, ResponseFrame
from voxhub.protocols.native_events import publish_error, publish_frame
from voxhub.protocols.wyoming.access import SESSION_PREFIX, ConversationRefused, own_session_id
from voxhub.sessions.live import open_conversation
from voxhub.sessions.manager import Session, SessionExists, SessionNotFound
from voxhub.sessions.models import Mode, SessionConfig

if TYPE_CHECKING:
    from voxhub.api.state import ServerState

logger = logging.getLogger(__name__)
TURN_TIMEOUT_SECS = 120.0
# A session begun here talks in text: Home Assistant speaks the answer with its own TTS.
_TEXT_SESSION = SessionConfig(mode=Mode(voice_input=False, voice_output=False))


class _Answer:
    """Waits for the turn's committed answer, or its failure."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.text: str | None = None
        self.error: str | None = None

    async def send(self, frame: Frame) -> None:
        if isinstance(frame, ResponseFrame):
            self.text = frame.text
            self.done.set()
        elif isinstance(frame, ErrorFrame):
            self.error = frame.message
            self.done.set()


async def handle_transcript(state: ServerState, transcript: Transcript, client_id: str = "") -> Event:
    """Run the turn on the session named by `context.conversation_id` (a new one if none or unknown).

    The turn's events (`response`, `tool_call`, `error`, ...) go to `WS /api/v1/events` and the webhooks
    under the session's id; a turn that fails before it has a session, under `client_id`.

    With `auth_token` set only a session begun over Wyoming may be used (see `access`): naming another
    raises ConversationRefused, which the connection answers with an `error` event.
    """
    context = transcript.context if isinstance(transcript.context, dict) else {}
    conversation_id = context.get("conversation_id")
    named = conversation_id if isinstance(conversation_id, str) else None
    session: Session | None = None
    try:
        if state.settings.auth_token is not None:
            session = await _wyoming_session(state, named)
        else:
            session = await _session(state, named)
        reply_context = {**context, "conversation_id": session.id}
        answer = _Answer()
        session_id = session.id

        async def send(frame: Frame) -> None:
            publish_frame(state, frame, session_id)
            await answer.send(frame)

        conversation = await open_conversation(
            session,
            state.sessions,
            state.engines,
            state.settings,
            send=send,
            metrics=state.metrics,
            paced=False,
            agent=state.assistant,
        )
        try:
            await conversation.change_mode({"voice_output": False, "text_output": True})
            await conversation.push_text(transcript.text)
            await asyncio.wait_for(answer.done.wait(), TURN_TIMEOUT_SECS)
        finally:
            await conversation.close()
    except ConversationRefused:
        raise
    except (VoxhubError, TimeoutError) as exc:
        message = exc.message if isinstance(exc, VoxhubError) else "the answer took too long"
        logger.warning("wyoming handle failed", extra={"error": message})
        code = exc.code if isinstance(exc, VoxhubError) else "timeout"
        publish_error(state, session.id if session is not None else client_id, code, message)
        return NotHandled(text=message, context=context or None).event()
    if answer.text is None:
        return NotHandled(text=answer.error or "no answer", context=reply_context).event()
    return Handled(text=answer.text, context=reply_context).event()


async def _session(state: ServerState, conversation_id: str | None) -> Session:
    try:
        return await state.sessions.get_or_create(conversation_id, _TEXT_SESSION)
    except InputError:
        # An id voxhub cannot use as a session id: a new session, whose id the answer's context carries.
        return await state.sessions.get_or_create(None, _TEXT_SESSION)


async def _wyoming_session(state: ServerState, conversation_id: str | None) -> Session:
    """Under auth: the conversation's own `wyoming-` session, never one of the authenticated API's."""
    sessions = state.sessions
    if conversation_id is None:
        return await sessions.create(_TEXT_SESSION, SESSION_PREFIX + uuid.uuid4().hex)
    own = own_session_id(conversation_id)
    try:
        return await sessions.get(own)
    except SessionNotFound:
        pass
    if own != conversation_id:
        try:
            await sessions.get(conversation_id)
        except SessionNotFound:
            pass
        else:
            raise ConversationRefused(
                f"conversation_id {conversation_id!r} names a session of the authenticated API; Wyoming has "
                f"no token, so it may only continue conversations begun over Wyoming (ids starting with "
                f"{SESSION_PREFIX!r})",
                details={"conversation_id": conversation_id},
            )
    try:
        return await sessions.create(_TEXT_SESSION, own)
    except SessionExists:
        return await sessions.get(own)  # created by a concurrent turn
    except InputError:
        # An id voxhub cannot use as a session id: a new session, whose id the answer's context carries.
        return await sessions.create(_TEXT_SESSION, SESSION_PREFIX + uuid.uuid4().hex)
