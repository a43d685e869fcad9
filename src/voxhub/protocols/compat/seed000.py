"""Seed 000's server interface: `/process` and its specialised routes, on voxhub's assistant brain."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from voxhub.agent.personas import SPOKEN_STYLE
from voxhub.agent.tools.base import ToolNotFound
from voxhub.api.routes import conversation
from voxhub.api.routes.autofunctions import AutoFunctionOut
from voxhub.api.routes.personas import assistant_of
from voxhub.api.state import ServerState, State
from voxhub.audio import decode_audio
from voxhub.audio.base64_payload import decode_base64_audio
from voxhub.engines.llm.base import ChatMessage, complete
from voxhub.errors import ConfigError, InputError

router = APIRouter(tags=["compat"])

_TEXT_ONLY = {"voice_input": False, "text_input": True, "voice_output": False, "text_output": True}
_SPEECH = {"voice_input": True, "text_input": True, "voice_output": True, "text_output": True}


class Request000(BaseModel):
    """What seed 000's clients send: text under one of several names, or speech, or a function call."""

    model_config = ConfigDict(extra="ignore")

    text: str | None = None
    message: str | None = None
    query: str | None = None
    prompt: str | None = None
    audio_data: str | None = Field(default=None, description="Base64 speech (a WAV/MP3/... file).")
    function: str | None = Field(default=None, description="A tool to run (also `name`).")
    name: str | None = None
    arguments: dict[str, Any] | str | None = None
    description: str | None = Field(default=None, description="With `autofunction: true`: the tool to write.")
    autofunction: bool = False
    session_id: str | None = None
    conversation_id: str | None = None
    user_id: str | None = None
    persona: str | None = None
    language: str | None = None
    area: str | None = Field(
        default=None, description="Where it was said (a Home Assistant area), for /offline/chat."
    )
    audio_format: Literal["wav", "pcm", "mp3", "opus", "flac"] = "wav"

    @property
    def said(self) -> str:
        return next(
            (t.strip() for t in (self.text, self.message, self.query, self.prompt) if t and t.strip()), ""
        )


async def _session_for(state: ServerState, body: Request000, mode: dict[str, bool]) -> str:
    session = await state.sessions.get_or_create(body.session_id or body.conversation_id)
    changes: dict[str, Any] = {"mode": mode}
    for key in ("persona", "user_id", "language"):
        if getattr(body, key):
            changes[key] = getattr(body, key)
    return (await state.sessions.update(session.id, changes)).id


def _answer(result: conversation.TurnResult, route: str) -> dict[str, Any]:
    answer = {"route": route, "response": result.text, **result.model_dump(exclude={"text"})}
    return {key: value for key, value in answer.items() if value not in (None, [])}


@router.post("/humanlike/chat", summary="Seed 000: a human-like answer (emotion, persona, spoken style)")
async def humanlike_chat(body: Request000, state: State) -> dict[str, Any]:
    if not body.said:
        raise InputError("send the user's words as `text` (or `message`)", details={"param": "text"})
    return _answer(await _conversation_turn(body, state), "humanlike")


@router.post(
    "/offline/chat", summary="Seed 000: the offline agent, then the local LLM; nothing leaves the box"
)
async def offline_chat(body: Request000, state: State) -> dict[str, Any]:
    if not body.said:
        raise InputError("send the user's words as `text` (or `message`)", details={"param": "text"})
    assistant = assistant_of(state)
    offline = assistant.offline
    if offline is None:
        raise ConfigError("the offline agent is not loaded")
    language = body.language or state.settings.stt_language or "en"
    session_id = await _session_for(state, body, _TEXT_ONLY)  # its timers ring on the session's sockets
    timers = assistant.timers.of(session_id)
    handled = await offline.handle(body.said, language, timers=timers, area=body.area)
    if handled is not None:
        result: dict[str, Any] = {
            "route": "offline",
            "session_id": session_id,
            "response": handled.text,
            "intent": handled.intent,
            "slots": dict(handled.slots),
            "success": handled.success,
        }
        if handled.error is not None:
            result["error"] = {"error": handled.error.code, "message": handled.error.message}
        return result
    llm = await state.engines.get("llm", "local")
    system = f"{state.settings.system_prompt}\n{SPOKEN_STYLE}"
    reply = await complete(llm, [ChatMessage("system", system), ChatMessage("user", body.said)])
    return {
        "route": "offline",
        "session_id": session_id,
        "response": reply.text.strip(),
        "intent": None,
        "engine": "local",
    }


@router.post("/execute/function", summary="Seed 000: run one of the server's tools by name")
async def execute_function(body: Request000, state: State) -> dict[str, Any]:
    name = body.function or body.name
    if not name:
        raise InputError("name the tool to run in `function` (or `name`)", details={"param": "function"})
    tools = assistant_of(state).tools
    if tools is None:
        raise ConfigError("no tools are configured")
    if name not in tools:
        raise ToolNotFound(f"no tool named {name!r}", details={"tool": name, "known": sorted(tools.names())})
    result = await tools.call(name, body.arguments if body.arguments is not None else {})
    return {"route": "function", "function": name, "result": result.content, "data": result.data}


@router.post("/speech/process", summary="Seed 000: speech in, transcript, answer and speech out")
async def speech_process(body: Request000, state: State) -> dict[str, Any]:
    if not body.audio_data:
        raise InputError("send the speech as base64 `audio_data`", details={"param": "audio_data"})
    data = decode_base64_audio(body.audio_data, max_bytes=state.settings.max_audio_bytes)
    audio = await asyncio.to_thread(decode_audio, data, max_secs=state.settings.max_audio_secs)
    session_id = await _session_for(state, body, _SPEECH)
    session = await state.sessions.get(session_id)
    result = await conversation.run_audio_turn(state, session, audio, body.audio_format)
    return _answer(result, "speech")


@router.post("/autofunction/create", status_code=201, summary="Seed 000: have the assistant write a tool")
async def autofunction_create(body: Request000, state: State) -> dict[str, Any]:
    """`{description}`: the new tool, pending until an admin approves it (see docs/autofunctions.md)."""
    service = state.autofunctions
    if service is None:
        raise ConfigError("AutoFunction is not available on this server")
    description = body.description or body.said
    if not description:
        raise InputError("describe the tool to write in `description`", details={"param": "description"})
    created = await service.create(description)
    return {"route": "autofunction", **AutoFunctionOut.of(created).model_dump(mode="json")}


@router.post("/process", summary="Seed 000: the main entry; routes the request (see docs/compat.md)")
async def process(body: Request000, state: State) -> dict[str, Any]:
    """A function call runs the tool; `autofunction` writes one; speech is a spoken turn; text a conversation."""
    if body.function or (body.name and body.arguments is not None):
        return await execute_function(body, state)
    if body.autofunction:
        return await autofunction_create(body, state)
    if body.audio_data:
        return await speech_process(body, state)
    if body.said:
        return _answer(await _conversation_turn(body, state), "conversation")
    raise InputError(
        "nothing to process: send `text`, `audio_data`, a `function` with `arguments`, or"
        " `autofunction: true` with a `description`",
        details={"accepted": ["text", "message", "audio_data", "function", "autofunction"]},
    )


async def _conversation_turn(body: Request000, state: ServerState) -> conversation.TurnResult:
    session_id = await _session_for(state, body, _TEXT_ONLY)
    return await conversation.text_turn(
        session_id, conversation.TextTurn(text=body.said, audio_format=body.audio_format), state
    )
