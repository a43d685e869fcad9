"""Optional bearer-token auth: every route but `/health` needs the token once `auth_token` is set."""

from __future__ import annotations

import hmac

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from voxhub.api.errors import Unauthorized
from voxhub.api.state import State
from voxhub.config import Settings


def _bearer(connection: HTTPConnection) -> str | None:
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def token_matches(settings: Settings, presented: str | None) -> bool:
    """Whether `presented` is the configured token (always True when auth is off, the token unset or empty).

    Compared in constant time, so response timing does not reveal how much of a guess was right.
    """
    expected = settings.auth_token.get_secret_value() if settings.auth_token is not None else ""
    if not expected:
        return True
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


async def require_auth(connection: HTTPConnection, state: State) -> None:
    """FastAPI dependency: raises Unauthorized (401) unless the `Authorization: Bearer` token is right."""
    if not token_matches(state.settings, _bearer(connection)):
        raise Unauthorized(
            "missing or wrong bearer token; send `Authorization: Bearer <token>`",
            details={"scheme": "Bearer"},
        )


def websocket_authorized(websocket: WebSocket, settings: Settings) -> bool:
    """Whether a WebSocket handshake carries the token, as a bearer header or the `token` query parameter."""
    return token_matches(settings, _bearer(websocket) or websocket.query_params.get("token"))
