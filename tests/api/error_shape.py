"""What every error response looks like, checked in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx


def assert_error(response: httpx.Response, status_code: int, code: str) -> dict[str, Any]:
    """The response is voxhub's JSON error with this status and code; returns the body for further checks."""
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "message", "details", "status_code", "timestamp"}
    assert body["error"] == code
    assert body["status_code"] == status_code
    assert body["message"]
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    return body
