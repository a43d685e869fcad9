"""The sessions of one server: created, looked up, configured, expired, and their history and profiles."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from voxhub.errors import InputError
from voxhub.sessions.errors import ProfileConflict, ProfileNotFound, SessionExists, SessionNotFound
from voxhub.sessions.models import HistoryMessage, SessionConfig
from voxhub.sessions.profiles import PREDEFINED, Profile

if TYPE_CHECKING:
    from voxhub.config import Settings
    from voxhub.sessions.store import Store

__all__ = [
    "ProfileConflict",
    "ProfileNotFound",
    "Session",
    "SessionExists",
    "SessionManager",
    "SessionNotFound",
]

logger = logging.getLogger(__name__)


class ConfigChecks(Protocol):
    """Checks against the engines (sessions/checks.py), given by the server; raise InputError."""

    async def config(self, config: SessionConfig) -> None: ...

    async def profile(self, profile: Profile) -> None: ...


_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
# Activity is written to the database at most this often per session; the in-memory time is exact, and
# expiry consults it, so the lag only matters after a restart (it is tiny next to the idle limit).
_TOUCH_WRITE_SECS = 5.0


@dataclass(slots=True)
class Session:
    """The in-memory handle of a session; `config` is replaced wholesale, never mutated."""

    id: str
    config: SessionConfig
    created_at: float
    last_active_at: float
    _persisted_active_at: float = dataclasses.field(default=0.0, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "config": self.config.to_dict(),
            "created_at": self.created_at,
            "last_active_at": self.last_active_at,
        }


class SessionManager:
    """Caches sessions in memory over the store; safe for many asyncio tasks on one event loop."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._connections: Counter[str] = Counter()
        self._gone: dict[str, asyncio.Event] = {}  # set when a connected session is deleted or expires
        self._config_lock = asyncio.Lock()  # a PATCH reads, validates and writes the config as one step
        self._cleanup_task: asyncio.Task[None] | None = None
        self.checks: ConfigChecks | None = None  # engines, voices, wake words: checked before saving

    @property
    def active_count(self) -> int:
        """Sessions held by this process (created or used since start, not yet deleted or expired)."""
        return len(self._sessions)

    @property
    def connected_count(self) -> int:
        """Sessions with at least one live connection."""
        return len(self._connections)

    # sessions

    async def create(self, config: SessionConfig | None = None, session_id: str | None = None) -> Session:
        """A new session; raises ProfileNotFound, SessionExists, or InputError for a malformed id."""
        config = config or SessionConfig()
        await self.profile(config.profile)
        if self.checks is not None and config != SessionConfig():
            await self.checks.config(config)
        if session_id is None:
            session_id = uuid.uuid4().hex
        elif not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
            raise InputError(
                "a session id is 1-128 letters, digits, '_', '.', ':' or '-', starting with a letter or digit",
                details={"session_id": session_id},
            )
        now = self._clock()
        await self._store.create_session(session_id, config.to_dict(), now)
        session = Session(session_id, config, now, now, now)
        self._sessions[session_id] = session
        logger.info("session created", extra={"session_id": session_id})
        return session

    async def get(self, session_id: str) -> Session:
        """The session with this id, loaded from the store if needed; raises SessionNotFound."""
        session = self._sessions.get(session_id)
        if session is not None:
            return session
        stored = await self._store.get_session(session_id)
        if stored is None:
            raise SessionNotFound(f"no session {session_id!r}", details={"session_id": session_id})
        loaded = Session(
            stored.id,
            SessionConfig.from_dict(stored.config),
            stored.created_at,
            stored.last_active_at,
            stored.last_active_at,
        )
        # Another task may have loaded it meanwhile: everyone must share one handle.
        return self._sessions.setdefault(session_id, loaded)

    async def get_or_create(self, session_id: str | None, config: SessionConfig | None = None) -> Session:
        """The existing session (its config unchanged), or a new one with `config` and this id."""
        if session_id is not None:
            with contextlib.suppress(SessionNotFound):
                return await self.get(session_id)
        try:
            return await self.create(config, session_id)
        except SessionExists:
            assert session_id is not None  # a fresh uuid4 does not collide
            return await self.get(session_id)  # created by a concurrent caller

    async def update(self, session_id: str, changes: Mapping[str, Any]) -> Session:
        """Apply validated config changes (see `SessionConfig.updated`); raises ProfileNotFound too."""
        async with self._config_lock:
            session = await self.get(session_id)
            config = await self.validated(session, changes)
            await self._store.update_config(session_id, config.to_dict())
            session.config = config
        await self.touch(session_id)
        return session

    async def validated(self, session: Session, changes: Mapping[str, Any]) -> SessionConfig:
        """`session`'s config with `changes`, checked (profile, engines, voice) but not saved."""
        config = session.config.updated(changes)
        if config.profile != session.config.profile:
            await self.profile(config.profile)
        if self.checks is not None and config != session.config:
            await self.checks.config(config)
        return config

    async def delete(self, session_id: str) -> None:
        """Delete a session and its history; raises SessionNotFound. Its connections are told (`gone`)."""
        self._sessions.pop(session_id, None)
        deleted = await self._store.delete_session(session_id)
        self._mark_gone(session_id)
        if not deleted:
            raise SessionNotFound(f"no session {session_id!r}", details={"session_id": session_id})
        logger.info("session deleted", extra={"session_id": session_id})

    def gone(self, session_id: str) -> asyncio.Event:
        """Set once session `session_id` is deleted; for holders of a connection (`mark_connected`)."""
        return self._gone.setdefault(session_id, asyncio.Event())

    def _mark_gone(self, session_id: str) -> None:
        event = self._gone.pop(session_id, None)
        if event is not None:
            event.set()

    async def touch(self, session_id: str) -> None:
        """Mark the session active now, which postpones its expiry."""
        session = await self.get(session_id)
        session.last_active_at = max(session.last_active_at, self._clock())
        if session.last_active_at - session._persisted_active_at >= _TOUCH_WRITE_SECS:
            session._persisted_active_at = session.last_active_at
            await self._store.touch(session_id, session.last_active_at)

    def mark_connected(self, session_id: str, connected: bool) -> None:
        """Count live connections: a session with one is never expired; idleness counts from the last close."""
        if connected:
            self._connections[session_id] += 1
            return
        self._connections[session_id] -= 1
        if self._connections[session_id] <= 0:
            del self._connections[session_id]
            self._gone.pop(session_id, None)
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_active_at = max(session.last_active_at, self._clock())

    def forget(self, session_id: str) -> None:
        """Drop the in-memory handle: another instance took the session over (docs/deploy.md), so the next
        `get` here reads its config from the shared store rather than a stale copy."""
        self._sessions.pop(session_id, None)

    # history

    @property
    def store(self) -> Store:
        """The store itself, for what is not about the session's lifecycle (summaries, user notes)."""
        return self._store

    async def history(self, session_id: str, limit: int | None = None) -> list[HistoryMessage]:
        """The conversation so far, oldest first (the last `limit` messages if given)."""
        await self.get(session_id)
        return await self._store.history(session_id, limit)

    async def append(self, session_id: str, messages: Sequence[HistoryMessage]) -> None:
        """Commit messages to history before returning; a message without `created_at` gets now."""
        await self.get(session_id)
        now = self._clock()
        stamped = [m if m.created_at else dataclasses.replace(m, created_at=now) for m in messages]
        await self._store.append_messages(session_id, stamped)
        await self.touch(session_id)

    async def rewrite(self, session_id: str, turn_id: str, role: str, content: str | None) -> bool:
        """Change (or with None, delete) a committed message of a turn; False if there is none."""
        await self.get(session_id)
        return await self._store.rewrite_messages(session_id, turn_id, role, content) > 0

    # profiles

    async def profile(self, name: str) -> Profile:
        """A predefined or custom profile; raises ProfileNotFound."""
        found = PREDEFINED.get(name) or await self._store.get_profile(name)
        if found is None:
            choices = sorted(PREDEFINED) + [p.name for p in await self._store.list_profiles()]
            raise ProfileNotFound(f"no profile {name!r}", details={"profile": name, "choices": choices})
        return found

    async def profiles(self) -> list[Profile]:
        """The predefined profiles, then the custom ones by name."""
        return [*PREDEFINED.values(), *await self._store.list_profiles()]

    async def save_profile(self, name: str, data: Mapping[str, Any]) -> Profile:
        """Create or replace a custom profile (flat or seed 004 shape); built-in names give ProfileConflict."""
        if name in PREDEFINED:
            raise ProfileConflict(
                f"profile {name!r} is built in and cannot be changed", details={"profile": name}
            )
        profile = Profile.from_dict(name, data)
        if self.checks is not None:
            await self.checks.profile(profile)
        await self._store.save_profile(profile)
        return profile

    async def delete_profile(self, name: str) -> None:
        """Delete a custom profile; ProfileConflict for a built-in one, ProfileNotFound if there is none.

        Sessions still naming it keep the name; looking the profile up for them raises ProfileNotFound.
        """
        if name in PREDEFINED:
            raise ProfileConflict(
                f"profile {name!r} is built in and cannot be deleted", details={"profile": name}
            )
        if not await self._store.delete_profile(name):
            raise ProfileNotFound(f"no profile {name!r}", details={"profile": name})

    # expiry

    async def expire_idle(self) -> list[str]:
        """Delete sessions idle longer than `session_idle_secs`, unless connected; returns their ids."""
        now = self._clock()
        idle_before = now - self._settings.session_idle_secs
        expired = []
        for session_id in await self._store.expired_sessions(idle_before):
            cached = self._sessions.get(session_id)
            if session_id in self._connections or (
                cached is not None and cached.last_active_at >= idle_before
            ):
                continue
            self._sessions.pop(session_id, None)
            if await self._store.delete_session(session_id):
                expired.append(session_id)
        if expired:
            logger.info("expired idle sessions", extra={"count": len(expired)})
        return expired

    def start_cleanup(self) -> None:
        """Run `expire_idle` every `cleanup_interval_secs` in a background task, until `stop_cleanup`."""
        if self._cleanup_task is None or self._cleanup_task.done():
            self._cleanup_task = asyncio.create_task(self._cleanup_loop(), name="voxhub-session-cleanup")

    async def stop_cleanup(self) -> None:
        task, self._cleanup_task = self._cleanup_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _cleanup_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.cleanup_interval_secs)
            try:
                await self.expire_idle()
            except Exception:
                # One failed sweep (a locked or full disk) must not end cleanup for the life of the server.
                logger.exception("session cleanup failed")
