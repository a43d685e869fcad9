"""Personas over HTTP: the shipped ones, your own as YAML files, and seed 002's context/respond steps."""

from __future__ import annotations

import httpx
import yaml

from tests.api.conftest import Server
from tests.api.error_shape import assert_error

PIRATE = {
    "name": "pirate",
    "description": "A cheerful pirate captain.",
    "personality": "Bold and merry.",
    "speaking_style": "Says 'arr' now and then.",
    "rules": ["Never give financial advice."],
    "greeting": "Ahoy!",
    "examples": [{"user": "Hello", "assistant": "Ahoy, matey!"}],
}


async def test_the_shipped_personas_include_a_plain_home_assistant(client: httpx.AsyncClient) -> None:
    personas = (await client.get("/api/v1/personas")).json()["personas"]
    names = [persona["name"] for persona in personas]
    assert "assistant" in names
    assert len(names) >= 3


async def test_a_new_persona_is_saved_as_a_yaml_file_and_read_back(server: Server) -> None:
    created = await server.client.post("/api/v1/personas", json=PIRATE)
    fetched = await server.client.get("/api/v1/personas/pirate")
    on_disk = yaml.safe_load((server.settings.data_dir / "personas" / "pirate.yaml").read_text())
    assert created.status_code == 201
    assert fetched.json()["greeting"] == "Ahoy!"
    assert on_disk["rules"] == ["Never give financial advice."]


async def test_a_persona_is_replaced_and_deleted(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/personas", json=PIRATE)
    replaced = await client.put("/api/v1/personas/pirate", json={**PIRATE, "greeting": "Arr!"})
    assert replaced.json()["greeting"] == "Arr!"
    assert (await client.delete("/api/v1/personas/pirate")).status_code == 204
    assert_error(await client.get("/api/v1/personas/pirate"), 404, "persona_not_found")


async def test_a_shipped_persona_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/api/v1/personas/assistant"), 409, "persona_read_only")


async def test_a_persona_with_an_unknown_field_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/personas", json={**PIRATE, "mood": "grumpy"})
    assert response.status_code in (400, 422)
    assert "mood" in response.text


async def test_seed_002_context_then_respond_answers_in_character(client: httpx.AsyncClient) -> None:
    made = await client.post(
        "/api/v1/personas/context",
        json={"user_input": "What is your ship called?", "character_details": PIRATE},
    )
    body = made.json()
    assert made.status_code == 200
    assert "pirate" in body["context"].lower()
    assert body["rules"] == ["Never give financial advice."]

    answered = await client.post(
        "/api/v1/personas/respond",
        json={
            "user_query": "What is your ship called?",
            "persona_context": body["context"],
            "rules": body["rules"],
        },
    )
    assert answered.status_code == 200
    assert answered.json()["response"].strip()


async def test_respond_with_an_unknown_model_names_the_choices(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/personas/respond",
        json={"user_query": "Hi", "persona_context": "You are a cat.", "model": "gpt-9"},
    )
    assert response.status_code == 400
    assert "local" in response.text
