"""Structured logs: one JSON object per line, carrying the session and turn the work belongs to."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxhub.config import Settings
from voxhub.log_context import SESSION_ID, TURN_ID, bind_log_context, log_context

__all__ = ["JsonFormatter", "bind_log_context", "configure_logging", "log_context"]

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field;
# uvicorn adds `color_message`, the same text with terminal colours.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}
access_logger = logging.getLogger("voxhub.access")


class JsonFormatter(logging.Formatter):
    """`{ts, level, logger, message, session_id, turn_id, ...extras}`, exceptions as one `exception` string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "session_id": SESSION_ID.get(),
            "turn_id": TURN_ID.get(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


_CHATTY_LIBRARIES = ("faster_whisper", "httpx", "httpcore", "openai", "httpx2")


class _VoxhubHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler `configure_logging` installed, so configuring again replaces it."""


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Send every log record (uvicorn's too) as JSON lines to `stream` (stderr) at `settings.log_level`."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _VoxhubHandler)]:
        root.removeHandler(handler)
    handler = _VoxhubHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Libraries that log every request or decode at INFO; their lines matter only when debugging.
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers print plain text; ours format its records as JSON instead
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


class AccessLog:
    """ASGI middleware: one log line per HTTP request with method, route, status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            # The router fills in the matched route and its path parameters in the shared scope.
            route = scope.get("route")
            fields: dict[str, Any] = {
                "method": scope["method"],
                "path": scope["path"],
                "route": getattr(route, "path", None),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            session_id = scope.get("path_params", {}).get("session_id")
            if session_id is not None:
                fields["session_id"] = session_id
            level = logging.WARNING if status >= 500 else logging.INFO
            access_logger.log(level, "%s %s %d", scope["method"], scope["path"], status, extra=fields)
