"""What the assistant remembers about a user, across sessions (`user_id` of a session)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from voxhub.api.routes.personas import assistant_of
from voxhub.api.state import State
from voxhub.errors import VoxhubError

router = APIRouter(prefix="/api/v1/users/{user_id}/notes", tags=["memory"])


class NoteNotFound(VoxhubError):
    code = "note_not_found"
    status_code = 404


class NewNote(BaseModel):
    note: str = Field(min_length=1, max_length=1000)


@router.get("", summary="Everything remembered about the user, oldest first")
async def list_notes(user_id: str, state: State) -> dict[str, Any]:
    notes = await assistant_of(state).notes.all(user_id)
    return {"notes": [{"id": i, "note": text, "created_at": at} for i, text, at in notes]}


@router.post("", status_code=201, summary="Remember something about the user")
async def add_note(user_id: str, body: NewNote, state: State) -> dict[str, Any]:
    note_id = await assistant_of(state).notes.add(user_id, body.note)
    return {"id": note_id, "note": body.note.strip()}


@router.delete("/{note_id}", status_code=204, summary="Forget one note")
async def delete_note(user_id: str, note_id: int, state: State) -> Response:
    if not await assistant_of(state).notes.delete(user_id, note_id):
        raise NoteNotFound(f"user {user_id!r} has no note {note_id}", details={"note_id": note_id})
    return Response(status_code=204)
