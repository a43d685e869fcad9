"""One conversation turn over plain HTTP: text or an utterance in, the answer (text and audio) out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from voxhub.api.events import frame_event
from voxhub.api.state import ServerState, State
from voxhub.audio import PcmAudio, decode_audio, decode_base64_audio, encode_audio
from voxhub.audio.base64_payload import encode_base64_audio
from voxhub.audio.limits import read_upload
from voxhub.errors import AudioError, EngineError, InputError
from voxhub.pipeline.conversation import Conversation
from voxhub.pipeline.frames import (
    AudioOutFrame,
    AudioStartFrame,
    ErrorFrame,
    Frame,
    NoticeFrame,
    ResponseFrame,
    TranscriptFrame,
)
from voxhub.sessions.errors import SessionDeleted
from voxhub.sessions.live import open_conversation
from voxhub.sessions.manager import Session

router = APIRouter(prefix="/api/v1/sessions", tags=["conversation"])
TURN_TIMEOUT_SECS = 120.0
AudioFormat = Literal["wav", "pcm", "mp3", "opus", "flac"]


class TextTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, examples=["What time is it?"])
    audio_format: AudioFormat = Field(
        "wav", description="Format of `audio_data` when the mode has voice output."
    )


class AudioTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audio: str = Field(
        description="The utterance, base64: a WAV (or mp3, ogg, flac…) file, or raw PCM s16le mono."
    )
    format: Literal["auto", "pcm"] = Field(
        "auto", description="`pcm` for raw samples; `auto` reads the file type."
    )
    sample_rate: int = Field(16000, ge=8000, le=48000, description="Rate of raw PCM.")
    audio_format: AudioFormat = "wav"


class TurnResult(BaseModel):
    session_id: str
    turn_id: str | None
    transcript: str | None = Field(default=None, description="What was heard (audio turns).")
    text: str = Field(description="The answer.")
    audio_data: str | None = Field(
        default=None, description="The spoken answer, base64, when the mode has voice output."
    )
    audio_format: str | None = None
    sample_rate_hz: int | None = None
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="Engine failures the turn survived."
    )
    emotion: dict[str, Any] | None = Field(default=None, description="The user's emotion: label, confidence.")
    fallback: bool = Field(
        default=False, description="True when the offline agent answered for a failed LLM."
    )
    fallback_reason: str | None = None
    tool_calls: list[dict[str, Any]] = Field(
        default_factory=list, description="Tools the server ran for this answer, with their results."
    )
    intent: dict[str, Any] | None = Field(default=None, description="The command the offline agent matched.")
    visemes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Mouth shapes timed to `audio_data` ({viseme, start_ms, duration_ms}) when the session's "
        "`avatar` option is on.",
    )
    # Seed 003's names for the same answer (docs/compat.md): it reads `response`, `message` and `video_frames`.
    response: str = Field(default="", description="The answer again, under seed 003's name.")
    message: str = Field(default="Text processed", description="Seed 003's status line.")
    video_frames: list[str] = Field(
        default_factory=list, description="Seed 003's avatar video: voxhub renders none; see `visemes`."
    )


@router.post("/{session_id}/text", summary="Send text, get the answer (and its audio if the mode speaks)")
async def text_turn(session_id: str, body: TextTurn, state: State) -> TurnResult:
    session = await state.sessions.get(session_id)
    if not session.config.mode.text_input:
        raise InputError("text input is off for this session; change its mode or send audio")

    async def feed(conversation: Conversation) -> None:
        await conversation.push_text(body.text)

    return await _run_turn(state, session, feed, body.audio_format, input_rate_hz=16000)


_AUDIO_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "audio_format": {"type": "string", "enum": ["wav", "pcm", "mp3", "opus", "flac"]},
                    },
                    "required": ["file"],
                }
            },
            "application/json": {"schema": AudioTurn.model_json_schema()},
        }
    }
}


@router.post(
    "/{session_id}/audio",
    summary="Send one utterance, get its transcript and the answer",
    openapi_extra=_AUDIO_BODY,
)
async def audio_turn(session_id: str, request: Request, state: State) -> TurnResult:
    session = await state.sessions.get(session_id)
    if not session.config.mode.voice_input:
        raise InputError("voice input is off for this session; change its mode or send text")
    audio, audio_format = await _read_utterance(request, state)
    return await run_audio_turn(state, session, audio, audio_format)


async def run_audio_turn(
    state: ServerState, session: Session, audio: PcmAudio, audio_format: str
) -> TurnResult:
    """One spoken utterance through the session's conversation: its transcript and the answer."""

    async def feed(conversation: Conversation) -> None:
        await conversation.push_audio(audio.pcm_s16le)
        await conversation.end_audio()

    return await _run_turn(state, session, feed, audio_format, input_rate_hz=audio.sample_rate_hz)


async def _read_utterance(request: Request, state: ServerState) -> tuple[PcmAudio, str]:
    """The utterance from a multipart `file` upload or a base64 JSON body."""
    limit = state.settings.max_audio_bytes
    if request.headers.get("content-type", "").startswith("multipart/"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError('send the utterance as a multipart field named "file"')
        data = await read_upload(upload, max_bytes=limit)
        output = form.get("audio_format", "wav")
        return await _decoded(data, state), str(output)
    try:
        body = AudioTurn.model_validate_json(await request.body())
    except ValueError as exc:
        raise InputError(
            f"expected a multipart upload or JSON {{audio, format, sample_rate}}: {exc}"
        ) from None
    data = decode_base64_audio(body.audio, max_bytes=limit)
    if body.format == "pcm":
        if len(data) % 2:
            raise AudioError("raw PCM must be whole 16-bit samples (an even number of bytes)")
        return PcmAudio(data, body.sample_rate), body.audio_format
    return await _decoded(data, state), body.audio_format


async def _decoded(data: bytes, state: ServerState) -> PcmAudio:
    """The uploaded file decoded off the event loop, held to `max_audio_secs`."""
    return await asyncio.to_thread(decode_audio, data, max_secs=state.settings.max_audio_secs)


class _TurnCollector:
    """Gathers what a turn sends, until its answer has been committed (or nothing was heard)."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.turn_id: str | None = None
        self.transcript: str | None = None
        self.text = ""
        self.audio: list[bytes] = []
        self.sample_rate_hz: int | None = None
        self.errors: list[dict[str, Any]] = []
        self.notices: dict[str, list[dict[str, Any]]] = {}

    async def send(self, frame: Frame) -> None:
        if isinstance(frame, NoticeFrame):
            self.notices.setdefault(frame.kind, []).append(frame.data)
        elif isinstance(frame, AudioOutFrame):
            self.audio.append(frame.pcm_s16le)
        elif isinstance(frame, AudioStartFrame):
            self.sample_rate_hz = frame.sample_rate_hz
        elif isinstance(frame, TranscriptFrame) and frame.is_final:
            self.transcript, self.turn_id = frame.text, frame.turn_id
            if not frame.text:
                self.done.set()  # nothing was said: there will be no answer
        elif isinstance(frame, ErrorFrame):
            self.errors.append({"error": frame.error, "message": frame.message, "details": frame.details})
        elif isinstance(frame, ResponseFrame):
            self.text, self.turn_id = frame.text, frame.turn_id
            self.done.set()


async def _run_turn(
    state: ServerState,
    session: Session,
    feed: Callable[[Conversation], Awaitable[None]],
    audio_format: str,
    *,
    input_rate_hz: int,
) -> TurnResult:
    collector = _TurnCollector()
    sessions = state.sessions
    sessions.mark_connected(session.id, True)  # a turn in progress keeps its session from expiring
    try:
        async with state.connections.turn_slot():
            return await _turn(state, session, feed, audio_format, collector, input_rate_hz)
    finally:
        sessions.mark_connected(session.id, False)


async def _turn(
    state: ServerState,
    session: Session,
    feed: Callable[[Conversation], Awaitable[None]],
    audio_format: str,
    collector: _TurnCollector,
    input_rate_hz: int,
) -> TurnResult:
    gone = state.sessions.gone(session.id)

    async def send(frame: Frame) -> None:
        body = frame_event(frame, session.id)
        if body is not None:
            state.events.publish(body)  # for WS /api/v1/events, as a socket's turn would be
        await collector.send(frame)

    conversation = await open_conversation(
        session,
        state.sessions,
        state.engines,
        state.settings,
        send=send,
        metrics=state.metrics,
        input_rate_hz=input_rate_hz,
        paced=False,
        activation="push_to_talk",  # an upload is one whole utterance
        agent=state.assistant,
    )
    try:
        await feed(conversation)
        await _until_done(collector.done, gone, session.id)
    finally:
        await conversation.close()
    await state.sessions.touch(session.id)
    if collector.transcript == "":
        raise InputError("no speech was recognized in the audio", details={"code": "no_speech"})
    result = TurnResult(
        session_id=session.id,
        turn_id=collector.turn_id,
        transcript=collector.transcript,
        text=collector.text,
        response=collector.text,
        errors=collector.errors,
        emotion=_last(collector.notices.get("emotion")),
        fallback=bool(collector.notices.get("fallback")),
        fallback_reason=(_last(collector.notices.get("fallback")) or {}).get("reason"),
        tool_calls=collector.notices.get("tool_call", []),
        intent=_last(collector.notices.get("intent")),
        visemes=[shape for notice in collector.notices.get("viseme", []) for shape in notice["visemes"]],
    )
    if collector.audio and collector.sample_rate_hz:
        clip = PcmAudio(b"".join(collector.audio), collector.sample_rate_hz)
        result.audio_data = encode_base64_audio(encode_audio(clip, audio_format))
        result.audio_format = audio_format
        result.sample_rate_hz = clip.sample_rate_hz
    return result


async def _until_done(done: asyncio.Event, gone: asyncio.Event, session_id: str) -> None:
    """Wait for the turn's answer; SessionDeleted at once if the session goes meanwhile."""
    waits = [asyncio.ensure_future(done.wait()), asyncio.ensure_future(gone.wait())]
    try:
        await asyncio.wait(waits, timeout=TURN_TIMEOUT_SECS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    if gone.is_set():
        raise SessionDeleted(
            f"session {session_id!r} was deleted during the turn", details={"session_id": session_id}
        )
    if not done.is_set():
        raise EngineError(f"the turn took longer than {TURN_TIMEOUT_SECS:g} s")


def _last(items: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    return items[-1] if items else None
