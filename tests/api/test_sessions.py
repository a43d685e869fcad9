"""Sessions over HTTP: a client creates one, reconfigures it, reads its history and deletes it."""

from __future__ import annotations

import httpx

from tests.api.conftest import Server
from tests.api.error_shape import assert_error
from voxhub.sessions.models import HistoryMessage

ALL_ON = {"voice_input": True, "text_input": True, "voice_output": True, "text_output": True}


async def test_a_new_session_has_an_id_and_the_default_config(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/sessions")
    assert created.status_code == 201
    session = created.json()
    assert len(session["id"]) == 32
    assert session["config"]["profile"] == "vad-triggered"
    assert session["config"]["mode"] == ALL_ON
    read = (await client.get(f"/api/v1/sessions/{session['id']}")).json()
    assert {key: read[key] for key in ("id", "config", "created_at")} == {
        key: session[key] for key in ("id", "config", "created_at")
    }


async def test_a_session_can_be_created_with_its_own_id_and_overrides(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/sessions",
        json={
            "session_id": "kitchen-1",
            "language": "pl",
            "profile": "push-to-talk",
            "mode": {"voice_output": "off"},
        },
    )
    config = (await client.get("/api/v1/sessions/kitchen-1")).json()["config"]
    assert created.status_code == 201
    assert config["language"] == "pl"
    assert config["profile"] == "push-to-talk"
    assert config["mode"] == {**ALL_ON, "voice_output": False}


async def test_patch_changes_only_the_given_settings(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/v1/sessions", json={"language": "pl"})).json()["id"]
    patched = await client.patch(
        f"/api/v1/sessions/{session_id}", json={"system_prompt": "Be brief.", "mode": {"voice_input": False}}
    )
    config = (await client.get(f"/api/v1/sessions/{session_id}")).json()["config"]
    assert patched.status_code == 200
    assert config["system_prompt"] == "Be brief."
    assert config["language"] == "pl"
    assert config["mode"] == {**ALL_ON, "voice_input": False}


async def test_a_deleted_session_is_gone(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/v1/sessions")).json()["id"]
    assert (await client.delete(f"/api/v1/sessions/{session_id}")).status_code == 204
    assert_error(await client.get(f"/api/v1/sessions/{session_id}"), 404, "session_not_found")
    assert_error(await client.delete(f"/api/v1/sessions/{session_id}"), 404, "session_not_found")


async def test_history_lists_the_conversation_oldest_first(server: Server) -> None:
    session_id = (await server.client.post("/api/v1/sessions")).json()["id"]
    await server.state.sessions.append(
        session_id,
        [
            HistoryMessage("user", "What time is it?", turn_id="t1"),
            HistoryMessage("assistant", "It is", turn_id="t1", interrupted=True),
            HistoryMessage("user", "Thanks.", turn_id="t2"),
        ],
    )
    everything = (await server.client.get(f"/api/v1/sessions/{session_id}/history")).json()
    last = (await server.client.get(f"/api/v1/sessions/{session_id}/history", params={"limit": 1})).json()
    assert [(m["role"], m["content"]) for m in everything["messages"]] == [
        ("user", "What time is it?"),
        ("assistant", "It is"),
        ("user", "Thanks."),
    ]
    assert everything["messages"][1]["interrupted"] is True
    assert [m["content"] for m in last["messages"]] == ["Thanks."]


async def test_an_unknown_setting_is_422(client: httpx.AsyncClient) -> None:
    body = assert_error(
        await client.post("/api/v1/sessions", json={"colour": "blue"}), 422, "validation_error"
    )
    assert body["details"]["errors"][0]["loc"] == ["body", "colour"]


async def test_a_session_naming_an_unknown_profile_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/sessions", json={"profile": "no-such-profile"})
    assert_error(response, 404, "profile_not_found")


async def test_a_session_naming_an_unknown_engine_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/sessions", json={"tts_engine": "festival"})
    body = assert_error(response, 400, "invalid_input")
    assert "hibari" in body["details"]["choices"]


async def test_the_avatar_is_switched_on_over_rest(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/api/v1/sessions", json={"avatar": True})).json()["id"]
    assert (await client.get(f"/api/v1/sessions/{session_id}")).json()["config"]["avatar"] is True
    reset = await client.patch(f"/api/v1/sessions/{session_id}", json={"avatar": None})
    assert reset.json()["config"]["avatar"] is False


async def test_avatar_must_be_true_or_false_not_a_number(client: httpx.AsyncClient) -> None:
    refused = await client.post("/api/v1/sessions", json={"avatar": 0})

    assert refused.status_code == 422
    assert refused.json()["details"]["errors"][0]["loc"][-1] == "avatar"
