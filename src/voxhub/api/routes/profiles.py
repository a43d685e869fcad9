"""Listening profiles (seed 004): the predefined ones and custom ones saved through the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from voxhub.api.state import State

router = APIRouter(prefix="/api/v1/profiles", tags=["profiles"])

_SEED_EXAMPLE = {
    "description": "High sensitivity for noisy environments",
    "vad": {"sensitivity": 0.8, "min_speech_duration": 0.5},
    "transcription": {"language": "en"},
}


@router.get("", summary="Every profile, predefined first")
async def list_profiles(state: State) -> dict[str, Any]:
    return {"profiles": [profile.to_dict() for profile in await state.sessions.profiles()]}


@router.get("/{name}", summary="One profile")
async def get_profile(name: str, state: State) -> dict[str, Any]:
    return (await state.sessions.profile(name)).to_dict()


@router.post("/{name}", summary="Create or replace a custom profile (voxhub's flat shape or seed 004's)")
async def save_profile(
    name: str,
    body: Annotated[dict[str, Any], Body(examples=[_SEED_EXAMPLE])],
    state: State,
) -> dict[str, Any]:
    return (await state.sessions.save_profile(name, body)).to_dict()


@router.delete("/{name}", status_code=204, summary="Delete a custom profile (built-in ones answer 409)")
async def delete_profile(name: str, state: State) -> Response:
    await state.sessions.delete_profile(name)
    return Response(status_code=204)
