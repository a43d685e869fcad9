"""The earlier servers' HTTP routes, mapped onto voxhub's own handlers (see docs/compat.md)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from voxhub.api.routes import conversation, oneshot, personas, profiles, system
from voxhub.api.state import ServerState, State
from voxhub.audio import PcmAudio, decode_audio
from voxhub.audio.base64_payload import decode_base64_audio
from voxhub.audio.limits import upload_too_large
from voxhub.errors import InputError
from voxhub.protocols import openai_audio
from voxhub.protocols.compat import seed000
from voxhub.protocols.compat_ws import COMPAT_PROFILE_KEY, character_prompt
from voxhub.sessions.models import SessionConfig

router = APIRouter(tags=["compat"])


class AlreadyRunning(InputError):
    code = "conflict"
    status_code = 409


_TEXT_ONLY = {"voice_input": False, "text_input": True, "voice_output": False, "text_output": True}
_TRANSCRIPTION_MODE = {"voice_input": True, "text_input": False, "voice_output": False, "text_output": True}


# --- seed 001: voice agent server -----------------------------------------------------------------


@router.post("/connect", summary="Seed 001: reserve a slot for the WebSocket you open next")
async def connect(state: State) -> JSONResponse:
    lease_secs = state.settings.connect_reservation_secs
    reservation = state.connections.reserve(lease_secs)
    capacity = state.connections.capacity()
    if reservation is None:
        body = {"status": "at_capacity", "websocket": "/ws/flexible", "server_info": capacity}
        return JSONResponse(body, status_code=503)
    body = {
        "status": "ok",
        "websocket": f"/ws/flexible?reservation={reservation}",
        "reservation": {"id": reservation, "expires_in_secs": lease_secs},
        "server_info": capacity,
    }
    return JSONResponse(body)


class ChatText(BaseModel):
    model_config = ConfigDict(extra="ignore")  # seed 001 clients may send agent ids and the like
    text: str = Field(min_length=1, examples=["Hello, can you help me?"])
    session_id: str | None = None


@router.post("/chat/text", summary="Seed 001: one text turn, text back")
async def chat_text(body: ChatText, state: State) -> dict[str, Any]:
    session = await state.sessions.get_or_create(body.session_id)
    session = await state.sessions.update(session.id, {"mode": _TEXT_ONLY})
    result = await conversation.text_turn(
        session.id, conversation.TextTurn(text=body.text, audio_format="wav"), state
    )
    return {"response": result.text, "session_id": result.session_id, "turn_id": result.turn_id}


# --- seed 003: avatar chat API --------------------------------------------------------------------


@router.get("/api/v1/health", summary="Seed 003: health with the pipeline's state")
async def api_health(state: State) -> dict[str, Any]:
    return {
        "status": "healthy",
        "pipeline_status": _pipeline(state),
        "active_sessions": state.sessions.active_count,
        "timestamp": time.time(),
    }


@router.get("/api/v1/pipeline/status", summary="Seed 003: each pipeline stage and its engine")
async def pipeline_status(state: State) -> dict[str, Any]:
    return {"pipeline_status": _pipeline(state), "engines": (await system.system_status(state))["engines"]}


def _pipeline(state: ServerState) -> dict[str, Any]:
    stages: dict[str, Any] = {}
    for stage, name, engine in state.engines.items():
        if name == state.engines.default_name(stage):
            stages[stage] = {"status": "ready", "engine": name, "model": engine.capabilities.model}
    return stages


# --- seed 004: STT server -------------------------------------------------------------------------


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str = "vad-triggered"
    custom_config: dict[str, Any] | None = None


@router.post("/api/v1/system/start", summary="Seed 004: listen with a profile (used by /api/v1/ws)")
async def system_start(request: Request, state: State, body: StartRequest | None = None) -> dict[str, Any]:
    start = body or StartRequest()
    if getattr(request.app.state, COMPAT_PROFILE_KEY, None):
        raise AlreadyRunning("transcription is already running; POST /api/v1/system/stop first")
    profile = await state.sessions.profile(start.profile)
    if start.custom_config:
        # A custom config is saved as its own profile, so it keeps voxhub's validation.
        profile = await state.sessions.save_profile(f"{start.profile}-custom", start.custom_config)
    setattr(request.app.state, COMPAT_PROFILE_KEY, profile.name)
    return {"status": "started", "profile": profile.name, "websocket": "/api/v1/ws"}


@router.post("/api/v1/system/stop", summary="Seed 004: stop listening")
async def system_stop(request: Request) -> dict[str, Any]:
    if not getattr(request.app.state, COMPAT_PROFILE_KEY, None):
        raise AlreadyRunning("transcription is not running")
    setattr(request.app.state, COMPAT_PROFILE_KEY, None)
    return {"status": "stopped"}


@router.get("/api/v1/system/profiles", summary="Seed 004: every profile")
async def system_profiles(state: State) -> dict[str, Any]:
    return await profiles.list_profiles(state)


@router.get("/api/v1/system/profiles/{name}", summary="Seed 004: one profile")
async def system_profile(name: str, state: State) -> dict[str, Any]:
    return await profiles.get_profile(name, state)


@router.post("/api/v1/system/profiles/{name}", summary="Seed 004: save a custom profile")
async def save_system_profile(
    name: str, body: Annotated[dict[str, Any], Body()], state: State
) -> dict[str, Any]:
    return await profiles.save_profile(name, body, state)


@router.delete("/api/v1/system/profiles/{name}", status_code=204, summary="Seed 004: delete a profile")
async def delete_system_profile(name: str, state: State) -> Response:
    return await profiles.delete_profile(name, state)


class TranscriptionConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")  # seed 004's engine options (model size, beam...) do not apply
    language: str | None = None
    engine: str | None = None


@router.post("/api/v1/transcription/configure", summary="Seed 004: language and engine for new sessions")
async def transcription_configure(
    body: TranscriptionConfig, request: Request, state: State
) -> dict[str, Any]:
    config = {"language": body.language, "stt_engine": oneshot._engine_name("stt", body.engine)}
    request.app.state.compat_transcription = {key: value for key, value in config.items() if value}
    return {"status": "configured", "config": request.app.state.compat_transcription}


@router.post("/api/v1/transcription/sessions", status_code=201, summary="Seed 004: a transcription session")
async def transcription_session(request: Request, state: State) -> dict[str, Any]:
    configured = getattr(request.app.state, "compat_transcription", {})
    session = await state.sessions.create(
        SessionConfig().updated({**configured, "mode": _TRANSCRIPTION_MODE})
    )
    return {"session_id": session.id, "status": "started", "websocket": f"/api/v1/ws?session_id={session.id}"}


@router.delete("/api/v1/transcription/sessions/{session_id}", summary="Seed 004: end a transcription session")
async def end_transcription_session(session_id: str, state: State) -> dict[str, Any]:
    await state.sessions.delete(session_id)
    return {"session_id": session_id, "status": "stopped"}


class TranscribeAudio(BaseModel):
    model_config = ConfigDict(extra="ignore")
    audio_data: str = Field(description="Base64: an audio file, or raw PCM s16le mono at `sample_rate`.")
    sample_rate: int | None = Field(default=None, ge=8000, le=192000, description="Set for raw PCM.")
    language: str | None = None


@router.post("/api/v1/transcription/transcribe", summary="Seed 004: transcribe base64 audio")
async def transcription_transcribe(body: TranscribeAudio, request: Request, state: State) -> dict[str, Any]:
    configured = getattr(request.app.state, "compat_transcription", {})
    language = body.language or configured.get("language")
    text, result = await _transcribe(state, body.audio_data, body.sample_rate, language)
    return {"text": text, "is_final": True, "confidence": None, "language": result, "timestamp": time.time()}


@router.get("/api/v1/transcription/status", summary="Seed 004: is transcription running, and how")
async def transcription_status(request: Request, state: State) -> dict[str, Any]:
    stt = await state.engines.get("stt")
    return {
        "running": bool(getattr(request.app.state, COMPAT_PROFILE_KEY, None)),
        "profile": getattr(request.app.state, COMPAT_PROFILE_KEY, None),
        "engine": stt.name,
        "model": stt.capabilities.model,
        "config": getattr(request.app.state, "compat_transcription", {}),
        "active_sessions": state.sessions.active_count,
    }


# --- seed 002: character platform ----------------------------------------------------------------


class SpeechToText(BaseModel):
    model_config = ConfigDict(extra="ignore")
    audio_data: str = Field(description="Base64 audio file (or raw PCM s16le mono 16 kHz).")


@router.post("/speech-to-text", summary="Seed 002: transcribe base64 audio")
async def speech_to_text(body: SpeechToText, state: State) -> dict[str, Any]:
    text, _ = await _transcribe(state, body.audio_data, None, None)
    return {"transcript": text}


class TextToSpeech(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(min_length=1)
    voice_name: str | None = None


@router.post("/text-to-speech", summary="Seed 002: speak a text, base64 WAV back")
async def text_to_speech(body: TextToSpeech, state: State) -> dict[str, Any]:
    request = oneshot.SynthesizeRequest(text=body.text, voice=body.voice_name, format="wav", response="json")
    answer = json.loads(bytes((await oneshot.synthesize(request, state)).body))
    return {
        "audio_data": answer["audio"],
        "format": answer["format"],
        "sample_rate_hz": answer["sample_rate_hz"],
    }


class Interact(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_input: str = ""
    character_details: dict[str, Any] = Field(default_factory=dict)
    mode: str = Field("text", description="`text` answers in text; `voice` adds the spoken answer.")
    audio_data: str | None = Field(
        default=None, description="Base64 speech, used when `user_input` is empty."
    )
    session_id: str | None = None


@router.post(
    "/stream-text-to-speech",
    summary="Seed 002: speak a text, WAV streamed as it is synthesized",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "The speech, a WAV file as it is made"}},
)
async def stream_text_to_speech(body: TextToSpeech, state: State) -> StreamingResponse:
    request = openai_audio.SpeechRequest(input=body.text, voice=body.voice_name, response_format="wav")
    return await openai_audio.speech(request, state)


@router.post("/stream-speech-to-text", summary="Seed 002: transcribe an uploaded audio body")
async def stream_speech_to_text(request: Request, state: State) -> dict[str, Any]:
    """The body is the audio itself (a file, or raw PCM 16 kHz with `Content-Type: audio/pcm`)."""
    data = await request.body()
    if len(data) > state.settings.max_audio_bytes:
        raise upload_too_large(state.settings.max_audio_bytes)
    raw = request.headers.get("content-type", "").startswith(("audio/pcm", "audio/l16"))
    text, _ = await _transcribe_bytes(state, data, 16000 if raw else None, None)
    return {"transcript": text}


@router.post("/interact", summary="Seed 002: one turn with a character")
async def interact(body: Interact, state: State) -> dict[str, Any]:
    user_input = body.user_input
    if not user_input and body.audio_data:
        user_input, _ = await _transcribe(state, body.audio_data, None, None)
    if not user_input:
        raise InputError("send `user_input` text or `audio_data` speech")
    voice = body.mode.lower() in ("voice", "audio", "voice_to_voice", "text_to_voice")
    mode = {**_TEXT_ONLY, "voice_output": voice}
    session = await state.sessions.get_or_create(body.session_id)
    changes: dict[str, Any] = {"mode": mode}
    if body.character_details:
        changes["system_prompt"] = character_prompt(body.character_details)
    session = await state.sessions.update(session.id, changes)
    result = await conversation.text_turn(
        session.id, conversation.TextTurn(text=user_input, audio_format="wav"), state
    )
    return {"response": result.text, "audio_data": result.audio_data, "session_id": result.session_id}


async def _transcribe(
    state: ServerState, audio_b64: str, raw_rate_hz: int | None, language: str | None
) -> tuple[str, str | None]:
    """(text, language) of base64 audio: a file, or raw PCM when its rate is given."""
    data = decode_base64_audio(audio_b64, max_bytes=state.settings.max_audio_bytes)
    return await _transcribe_bytes(state, data, raw_rate_hz, language)


async def _transcribe_bytes(
    state: ServerState, data: bytes, raw_rate_hz: int | None, language: str | None
) -> tuple[str, str | None]:
    async with state.connections.turn_slot():
        if raw_rate_hz is not None:
            audio = PcmAudio(data, raw_rate_hz)
        else:
            audio = await asyncio.to_thread(decode_audio, data, max_secs=state.settings.max_audio_secs)
        engine = await state.engines.get("stt")
        transcript = await engine.transcribe(audio, language=language)
    return transcript.text, transcript.language


# --- seed 002: LLM1 and LLM2 under their old paths ------------------------------------------------


@router.post("/generate-context", summary="Seed 002 (LLM1): a character's context and rules")
async def generate_context(body: personas.ContextRequest, state: State) -> personas.ContextResponse:
    return await personas.persona_context(body, state)


@router.post("/generate-response", summary="Seed 002 (LLM2): the character's answer")
async def generate_response(body: personas.RespondRequest, state: State) -> personas.RespondResponse:
    return await personas.persona_respond(body, state)


router.include_router(seed000.router)
