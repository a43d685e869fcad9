"""One JSON error shape for every failure: `{error, message, details, status_code, timestamp}`."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxhub.errors import VoxhubError

logger = logging.getLogger(__name__)

# Codes for errors FastAPI or Starlette raise themselves (unknown route, wrong method, ...).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


class Unauthorized(VoxhubError):
    """The request lacks the server's bearer token, or carries a wrong one."""

    code = "unauthorized"
    status_code = 401


class ServerBusy(VoxhubError):
    """Every connection slot is taken; details carry the capacity figures."""

    code = "server_busy"
    status_code = 503


class TooManyRequests(VoxhubError):
    """One client asked for more turns than its budget; `Retry-After` says when the next one fits."""

    code = "rate_limited"
    status_code = 429

    def __init__(self, message: str, *, retry_after_secs: float) -> None:
        super().__init__(message, details={"retry_after_secs": round(retry_after_secs, 3)})
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after_secs)))}


class BodyTooLarge(HTTPException):
    """A request body over the limit; an HTTPException because FastAPI's body parsing re-raises those as is."""

    def __init__(self, limit_bytes: int, size_bytes: int) -> None:
        super().__init__(
            413, f"request body is over the limit of {limit_bytes} bytes (at least {size_bytes})"
        )
        self.details = {"limit_bytes": limit_bytes, "size_bytes": size_bytes}


def iso_time(unix_secs: float | None = None) -> str:
    """A time (default: now) in UTC as ISO 8601 with milliseconds and a `Z`."""
    moment = datetime.now(UTC) if unix_secs is None else datetime.fromtimestamp(unix_secs, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_body(
    status_code: int, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The error object every HTTP error and WebSocket `error` event carries."""
    return {
        "error": code,
        "message": message,
        "details": details or {},
        "status_code": status_code,
        "timestamp": iso_time(),
    }


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    if status_code == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(
        error_body(status_code, code, message, details), status_code=status_code, headers=headers
    )


def voxhub_error_response(exc: VoxhubError) -> JSONResponse:
    headers: dict[str, str] | None = getattr(exc, "headers", None)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers=headers)


async def _voxhub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VoxhubError)
    if exc.status_code >= 500:
        logger.error("request failed: %s", exc.message, extra={"error": exc.code, "path": request.url.path})
    return voxhub_error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only the parts a client can act on: pydantic's `ctx` and `input` may hold objects JSON cannot carry.
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    return error_response(422, "validation_error", f"invalid request: {summary}", {"errors": errors})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    code = _HTTP_CODES.get(status, f"http_{status}")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(status, code, message, getattr(exc, "details", None), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VoxhubError, _voxhub_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


class CatchUnexpected:
    """ASGI middleware: an unexpected exception becomes a logged 500 in the error shape, no traceback sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unexpected error", extra={"path": scope.get("path")})
            if started:
                raise  # the client already has a status line; the server closes the connection
            response = error_response(
                500, "internal_error", "internal server error; the server log has details"
            )
            await response(scope, receive, send)
