"""Logs: one JSON object per line (or a readable line on a terminal), carrying the request, session and turn
the work belongs to."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxhub.config import Settings
from voxhub.log_context import SESSION_ID, TURN_ID, bind_log_context, log_context

__all__ = [
    "REQUEST_ID",
    "JsonFormatter",
    "TextFormatter",
    "bind_log_context",
    "configure_logging",
    "log_context",
]

# The HTTP request or WebSocket connection the current work serves (set by `AccessLog`, inherited by the
# tasks it starts); the client's own `X-Request-ID` is kept when it is a plain token.
REQUEST_ID: ContextVar[str | None] = ContextVar("voxhub_log_request_id", default=None)
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field;
# uvicorn adds `color_message`, the same text with terminal colours.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}
access_logger = logging.getLogger("voxhub.access")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """What the record carries from `extra=`."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """`{ts, level, logger, message, request_id, session_id, turn_id, ...extras}`, exceptions as one
    `exception` string. The three ids are in every line, null outside a request, session or turn."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
            "session_id": SESSION_ID.get(),
            "turn_id": TURN_ID.get(),
        }
        line.update(_extras(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`16:09:52 INFO    message  key=value …` for a person at a terminal (local time); the request, session
    and turn ids come last when set."""

    def format(self, record: logging.LogRecord) -> str:
        clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        message = record.getMessage()
        # A field the message already reads out (`loading stt engine whisper`: stage, engine) is not repeated.
        fields = {
            key: value
            for key, value in _extras(record).items()
            if value is not None and not (isinstance(value, str) and value in message)
        }
        ids = (("request", REQUEST_ID.get()), ("session", SESSION_ID.get()), ("turn", TURN_ID.get()))
        fields |= {name: value for name, value in ids if value is not None and name + "_id" not in fields}
        shown = "  ".join(f"{key}={value}" for key, value in fields.items())
        line = f"{clock} {record.levelname:<7} {message}" + (f"  {shown}" if shown else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


# A request line in uvicorn's messages (`"WebSocket /ws?token=…" [accepted]`, `"GET /x?token=… HTTP/1.1"`):
# its query string may hold the bearer token, which a browser's WebSocket can send only there.
_QUERY_IN_REQUEST_LINE = re.compile(r'("(?:[A-Z]+|WebSocket) [^"?\s]*)\?[^"\s]*')


class _RedactQueries(logging.Filter):
    """Replaces the query string of every request uvicorn logs with `?…`, so no token reaches the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("uvicorn"):
            message = record.getMessage()
            redacted = _QUERY_IN_REQUEST_LINE.sub(r"\1?…", message)
            if redacted != message:
                record.msg, record.args = redacted, None
                record.__dict__.pop("color_message", None)
        return True


class _ExplainedStartupFailure(logging.Filter):
    """Below DEBUG, drops uvicorn's traceback of a start-up error voxhub raised on purpose (a missing model,
    a bad setting), and the "Application startup failed" line after it: voxhub's `cannot start: …` line has
    said why. Any other start-up exception keeps its traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._dropped = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "uvicorn.error" or record.levelno < logging.ERROR:
            return True
        message = record.getMessage()
        if message.startswith("Traceback") and message.rstrip().splitlines()[-1].startswith("voxhub.errors."):
            self._dropped = True
            return False
        return not (self._dropped and message.startswith("Application startup failed"))


_CHATTY_LIBRARIES = ("faster_whisper", "httpx", "httpcore", "openai", "httpx2")


class _VoxhubHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler `configure_logging` installed, so configuring again replaces it."""


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Send every log record (uvicorn's too) to `stream` (stderr) at `settings.log_level`: JSON lines, or
    readable lines with `log_format` `text` (and with `auto` when the stream is a terminal)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _VoxhubHandler)]:
        root.removeHandler(handler)
    target = stream or sys.stderr
    text = settings.log_format == "text" or (settings.log_format == "auto" and _is_terminal(target))
    handler = _VoxhubHandler(target)
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    handler.addFilter(_RedactQueries())
    if settings.log_level != "DEBUG":
        handler.addFilter(_ExplainedStartupFailure())
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


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            sent = str(value.decode("latin-1"))
            if _CLIENT_REQUEST_ID.match(sent):
                return sent
    return uuid.uuid4().hex[:16]


class AccessLog:
    """ASGI middleware: an id for each HTTP request and WebSocket connection (in every log line written
    while serving it, and in the `X-Request-ID` response header), and one log line per HTTP request with
    method, route, status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        try:
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send, request_id)
        finally:
            REQUEST_ID.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
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
