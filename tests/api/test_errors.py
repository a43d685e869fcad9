"""Every failure answers in one JSON shape, with the status codes seed 004 lists."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import ServeFactory, Server
from tests.api.error_shape import assert_error
from voxhub.api.limits import WEBSOCKET


async def test_unknown_session_is_404(client: httpx.AsyncClient) -> None:
    body = assert_error(await client.get("/api/v1/sessions/nope"), 404, "session_not_found")
    assert body["details"] == {"session_id": "nope"}


async def test_unknown_route_is_404_in_the_same_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")


async def test_deleting_a_built_in_profile_is_409(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/api/v1/profiles/vad-triggered"), 409, "profile_conflict")
    assert (await client.get("/api/v1/profiles/vad-triggered")).status_code == 200


async def test_malformed_json_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/sessions", content=b'{"language": "en",', headers={"Content-Type": "application/json"}
    )
    body = assert_error(response, 422, "validation_error")
    assert body["details"]["errors"][0]["type"] == "json_invalid"


async def test_a_body_of_the_wrong_type_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/synthesize", json={"text": ["not", "a", "string"]})
    body = assert_error(response, 422, "validation_error")
    assert body["details"]["errors"][0]["loc"] == ["body", "text"]


async def test_a_bad_mode_flag_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/sessions", json={"mode": {"voice_input": "maybe"}})
    body = assert_error(response, 400, "invalid_input")
    assert body["details"]["flag"] == "voice_input"


async def test_a_declared_body_over_the_limit_is_413_before_it_is_read(serve: ServeFactory) -> None:
    async with serve(max_request_bytes=1024) as server:
        response = await server.client.post("/api/v1/synthesize", json={"text": "x" * 2000})
    body = assert_error(response, 413, "payload_too_large")
    assert body["details"]["limit_bytes"] == 1024


async def test_a_body_longer_than_its_content_length_is_413(serve: ServeFactory) -> None:
    async with serve(max_request_bytes=1024) as server:
        response = await server.client.post(
            "/api/v1/synthesize",
            content=b'{"text": "' + b"x" * 2000 + b'"}',
            headers={"Content-Type": "application/json", "Content-Length": "20"},
        )
    assert_error(response, 413, "payload_too_large")


async def test_a_streamed_body_without_content_length_is_413(serve: ServeFactory) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 500

    async with serve(max_request_bytes=1024) as server:
        response = await server.client.post("/api/v1/transcribe", content=chunks())
        assert "content-length" not in response.request.headers
        after = await server.client.get("/health")
    assert_error(response, 413, "payload_too_large")
    assert after.status_code == 200


async def test_a_full_server_is_503_with_capacity_info(serve: ServeFactory) -> None:
    async with serve(max_connections=2) as server:
        for _ in range(2):
            assert server.state.connections.try_acquire(WEBSOCKET)
        response = await server.client.post("/api/v1/synthesize", json={"text": "hello"})
        rejected = server.state.connections.rejected
    body = assert_error(response, 503, "server_busy")
    assert body["details"] == {"active_connections": 2, "max_connections": 2, "capacity_usage": "100.0%"}
    assert rejected == 1


async def test_an_unexpected_failure_is_a_logged_500_without_internals(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("secret internal detail")

    server.app.add_api_route("/broken", broken)  # a route with a bug, as a stand-in for any future one
    response = await server.client.get("/broken")
    body = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text
    assert body["details"] == {}
    assert "secret internal detail" in caplog.text
