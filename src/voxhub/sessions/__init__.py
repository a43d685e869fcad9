"""Sessions: configuration overrides, listening profiles, persisted history, idle expiry."""

from __future__ import annotations

from voxhub.sessions.errors import ProfileConflict, ProfileNotFound, SessionExists, SessionNotFound
from voxhub.sessions.manager import Session, SessionManager
from voxhub.sessions.models import HistoryMessage, Mode, SessionConfig
from voxhub.sessions.profiles import DEFAULT_PROFILE, PREDEFINED, Profile
from voxhub.sessions.store import SessionStore, Store, StoredSession, open_store

__all__ = [
    "DEFAULT_PROFILE",
    "PREDEFINED",
    "HistoryMessage",
    "Mode",
    "Profile",
    "ProfileConflict",
    "ProfileNotFound",
    "Session",
    "SessionConfig",
    "SessionExists",
    "SessionManager",
    "SessionNotFound",
    "SessionStore",
    "Store",
    "StoredSession",
    "open_store",
]
