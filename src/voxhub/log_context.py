"""Which session and turn the current work belongs to, for log lines (set per asyncio task)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SESSION_ID: ContextVar[str | None] = ContextVar("voxhub_log_session_id", default=None)
TURN_ID: ContextVar[str | None] = ContextVar("voxhub_log_turn_id", default=None)


@contextmanager
def log_context(*, session_id: str | None = None, turn_id: str | None = None) -> Iterator[None]:
    """Within the block, log lines carry this session id (and turn id); the previous values return after."""
    tokens = []
    if session_id is not None:
        tokens.append((SESSION_ID, SESSION_ID.set(session_id)))
    if turn_id is not None:
        tokens.append((TURN_ID, TURN_ID.set(turn_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind_log_context(*, session_id: str | None = None, turn_id: str | None = None) -> None:
    """Set the ids for the rest of the current task (a connection handler, say); None leaves one as is."""
    if session_id is not None:
        SESSION_ID.set(session_id)
    if turn_id is not None:
        TURN_ID.set(turn_id)
