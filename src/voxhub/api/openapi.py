"""The OpenAPI document tells the truth about errors: every operation lists the ones it can answer.

FastAPI documents only success and its own `{detail}` 422; voxhub answers every failure with one shape
(`api/errors.py`). This fills in, per operation, the errors its shape allows: 400/413/422 for a body,
404 for an id in the path, 401 when the token is required, 429/503 for the work that takes a turn slot,
500 everywhere — each with the real error body.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

_PUBLIC = ("/health", "/health/live", "/health/ready")
_REF = {"$ref": "#/components/schemas/Error"}


class ErrorBody(BaseModel):
    """What every HTTP error carries (and every WebSocket `error` event)."""

    error: str = Field(description="A stable code, e.g. `invalid_input`, `session_not_found`.")
    message: str = Field(description="One sentence for a person.")
    details: dict[str, Any] = Field(description="What the code needs: the field, the limit, the choices.")
    status_code: int
    timestamp: str = Field(description="When, in UTC (ISO 8601).")


_DESCRIPTIONS = {
    "400": "The request cannot be used (`invalid_input` and friends; `details` names the field)",
    "401": "The bearer token is missing or wrong (when the server has one)",
    "404": "No such session, profile, persona or tool",
    "409": "The request conflicts with the current state (`conflict`): already running, not ready yet",
    "413": "The body (or the audio it decodes to, or the prompt it makes) is over its limit; `details` gives it",
    "422": "The body does not match the schema (`validation_error`; `details.errors` lists each field)",
    "429": "This client started too many turns; wait `Retry-After` seconds",
    "500": "An unexpected failure (`internal_error`); the server keeps running",
    "502": "An engine or upstream service failed (`engine_error`)",
    "503": "Every connection slot is taken (`server_busy`), or a model is missing",
}


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list voxhub's error responses on every operation (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas["Error"] = ErrorBody.model_json_schema()
            for path, item in spec.get("paths", {}).items():
                for method, operation in item.items():
                    _fill(path, method, operation)
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _fill(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = {"500"}
    if "requestBody" in operation or operation.get("parameters"):
        statuses |= {"400", "422"}
    if "requestBody" in operation:
        statuses.add("413")
    if "{" in path:
        statuses.add("404")
    if path not in _PUBLIC:
        statuses.add("401")
    if method in ("post", "put", "delete"):
        statuses.add("409")
    if method == "post":  # a body may name a session, a tool or a persona too
        statuses |= {"400", "404", "429", "502", "503"}
    statuses |= {status for status in responses if status[:1] in "45"}
    for status in sorted(statuses):
        said = responses.get(status, {}).get("description")
        if status == "422" or not said:  # FastAPI's own 422 text describes its `{detail}` body
            said = _DESCRIPTIONS.get(status, "An error")
        responses[status] = {
            "description": said,
            "content": {"application/json": {"schema": _REF}},
        }
