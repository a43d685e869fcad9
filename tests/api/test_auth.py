"""With `auth_token` set, every route but /health needs `Authorization: Bearer <token>`."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocket

from tests.api.conftest import ServeFactory
from tests.api.error_shape import assert_error
from voxhub.api.auth import websocket_authorized
from voxhub.config import Settings, load_settings

TOKEN = "s3cret-token"
PROTECTED = [
    "/",
    "/docs",
    "/openapi.json",
    "/metrics",
    "/api/v1/metrics",
    "/api/v1/system/status",
    "/api/v1/profiles",
    "/api/v1/profiles/wake-word",
]


async def test_health_is_public_with_auth_on(serve: ServeFactory) -> None:
    async with serve(auth_token=TOKEN) as server:
        response = await server.client.get("/health")
    assert response.status_code == 200
    assert response.json()["server_info"]["max_connections"] == 25


@pytest.mark.parametrize("path", PROTECTED)
async def test_a_route_without_the_token_is_401(serve: ServeFactory, path: str) -> None:
    async with serve(auth_token=TOKEN) as server:
        response = await server.client.get(path)
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", PROTECTED)
async def test_a_route_with_the_token_is_200(serve: ServeFactory, path: str) -> None:
    async with serve(auth_token=TOKEN) as server:
        response = await server.client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


async def test_a_wrong_token_is_401_on_writes_too(serve: ServeFactory) -> None:
    async with serve(auth_token=TOKEN) as server:
        response = await server.client.post(
            "/api/v1/sessions", json={}, headers={"Authorization": "Bearer s3cret-tokeX"}
        )
        assert server.state.sessions.active_count == 0
    assert_error(response, 401, "unauthorized")


async def test_the_token_in_the_query_string_does_not_open_http_routes(serve: ServeFactory) -> None:
    async with serve(auth_token=TOKEN) as server:
        response = await server.client.get("/api/v1/metrics", params={"token": TOKEN})
    assert_error(response, 401, "unauthorized")


def _handshake(query: str = "", headers: dict[str, str] | None = None) -> WebSocket:
    scope: dict[str, Any] = {
        "type": "websocket",
        "path": "/ws",
        "query_string": query.encode(),
        "headers": [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()],
    }

    async def never(*_: Any) -> Any:
        raise AssertionError("the check must not talk to the client")

    return WebSocket(scope, never, never)


@pytest.fixture
def secured(tmp_path: Any) -> Settings:
    return load_settings(data_dir=tmp_path, auth_token=TOKEN)


def test_websocket_handshake_may_carry_the_token_in_the_query(secured: Settings) -> None:
    assert websocket_authorized(_handshake(f"token={TOKEN}&profile=wake-word"), secured)
    assert websocket_authorized(_handshake(headers={"Authorization": f"Bearer {TOKEN}"}), secured)
    assert not websocket_authorized(_handshake("token=guess"), secured)
    assert not websocket_authorized(_handshake(), secured)


def test_websocket_handshake_needs_nothing_with_auth_off(tmp_path: Any) -> None:
    assert websocket_authorized(_handshake(), load_settings(data_dir=tmp_path))
