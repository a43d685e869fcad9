"""Errors about sessions and profiles, each with the HTTP status the API answers with."""

from __future__ import annotations

from voxhub.errors import InputError, VoxhubError


class SessionNotFound(InputError):
    """No session has this id (never created, deleted, or expired)."""

    code = "session_not_found"
    status_code = 404


class SessionDeleted(InputError):
    """The session was deleted (or expired) while it was in use."""

    code = "session_deleted"
    status_code = 410


class SessionExists(InputError):
    """A session with this id already exists."""

    code = "session_exists"
    status_code = 409


class ProfileNotFound(InputError):
    """No predefined or custom profile has this name."""

    code = "profile_not_found"
    status_code = 404


class ProfileConflict(InputError):
    """The request would change a built-in profile."""

    code = "profile_conflict"
    status_code = 409


class DatabaseUnavailable(VoxhubError):
    """The database did not answer in time (down, restarting, or its connections were cut)."""

    code = "database_unavailable"
    status_code = 503
