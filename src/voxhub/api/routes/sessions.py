"""Sessions over HTTP: create, read, reconfigure, delete, and read the history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from voxhub.api.state import State
from voxhub.sessions.models import SessionConfig

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


class SessionSettings(BaseModel):
    """Per-session overrides; a field left out keeps its value, null or "" resets it to the server setting."""

    model_config = ConfigDict(extra="forbid")

    system_prompt: str | None = None
    persona: str | None = None
    language: str | None = Field(default=None, examples=["en"])
    voice: str | None = None
    stt_engine: str | None = None
    tts_engine: str | None = None
    llm_engine: str | None = None
    profile: str | None = Field(default=None, examples=["vad-triggered"])
    mode: dict[str, bool | str] | None = Field(
        None,
        examples=[{"voice_input": False, "text_input": True, "voice_output": False, "text_output": True}],
    )
    user_id: str | None = None
    avatar: StrictBool | None = Field(
        default=None, description="Send `viseme` events (and `visemes` in answers); true or false, not 0/1."
    )
    area: str | None = Field(
        default=None,
        examples=["Kitchen"],
        description='The Home Assistant area (id or name) this session listens in: "turn off the lights" '
        "means that area's lights.",
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"session_id"})


class SessionCreate(SessionSettings):
    session_id: str | None = Field(
        default=None, description="Your own id for the session; a random one if left out."
    )


@router.post("", status_code=201, summary="Create a session")
async def create_session(state: State, body: SessionCreate | None = None) -> dict[str, Any]:
    config = SessionConfig().updated(body.changes() if body else {})
    session = await state.sessions.create(config, body.session_id if body else None)
    # `session_id`, `status` and `message` are seed 003's shape, beside voxhub's own `id` (docs/compat.md).
    return {**session.to_dict(), "session_id": session.id, "status": "created", "message": "Session created"}


@router.get("/{session_id}", summary="A session and its configuration")
async def get_session(session_id: str, state: State) -> dict[str, Any]:
    session = await state.sessions.get(session_id)
    return {**session.to_dict(), "session_id": session.id, "status": "active"}


@router.patch("/{session_id}", summary="Change a session's configuration")
async def update_session(session_id: str, body: SessionSettings, state: State) -> dict[str, Any]:
    return (await state.sessions.update(session_id, body.changes())).to_dict()


@router.delete("/{session_id}", status_code=204, summary="Delete a session and its history")
async def delete_session(session_id: str, state: State) -> Response:
    await state.sessions.delete(session_id)
    if state.assistant is not None:
        await state.assistant.timers.drop(session_id)  # its timers stop with it
    return Response(status_code=204)


@router.get("/{session_id}/history", summary="The conversation so far, oldest first")
async def session_history(
    session_id: str,
    state: State,
    limit: Annotated[
        int | None, Query(ge=1, le=10_000, description="Only the last `limit` messages.")
    ] = None,
) -> dict[str, Any]:
    messages = await state.sessions.history(session_id, limit)
    return {"session_id": session_id, "messages": [message.to_dict() for message in messages]}
