"""Listening profiles over HTTP: the predefined ones, and custom ones in seed 004's shape."""

from __future__ import annotations

import httpx

from tests.api.error_shape import assert_error

NOISY_ROOM = {
    "description": "High sensitivity for noisy environments",
    "vad": {"sensitivity": 0.8, "min_speech_duration": 0.5},
    "transcription": {"language": "en"},
}


async def test_the_predefined_profiles_are_listed(client: httpx.AsyncClient) -> None:
    profiles = (await client.get("/api/v1/profiles")).json()["profiles"]
    assert [p["name"] for p in profiles] == ["vad-triggered", "wake-word", "push-to-talk"]
    assert all(p["builtin"] for p in profiles)


async def test_a_seed_004_profile_is_saved_and_listed(client: httpx.AsyncClient) -> None:
    saved = await client.post("/api/v1/profiles/noisy-env", json=NOISY_ROOM)
    fetched = (await client.get("/api/v1/profiles/noisy-env")).json()
    listed = [p["name"] for p in (await client.get("/api/v1/profiles")).json()["profiles"]]
    assert saved.status_code == 200
    assert fetched["activation"] == "vad"
    assert fetched["vad_threshold"] == 0.2
    assert fetched["min_speech_secs"] == 0.5
    assert fetched["language"] == "en"
    assert fetched["builtin"] is False
    assert listed[-1] == "noisy-env"


async def test_a_custom_profile_can_be_deleted(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/profiles/quiet", json={"description": "quiet room", "vad_threshold": 0.7})
    assert (await client.delete("/api/v1/profiles/quiet")).status_code == 204
    assert_error(await client.get("/api/v1/profiles/quiet"), 404, "profile_not_found")


async def test_a_profile_that_is_not_an_object_is_422(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/api/v1/profiles/odd", json=["vad"]), 422, "validation_error")
