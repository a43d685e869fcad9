"""Where sessions and everything else that persists live: SQLite (embedded default) or PostgreSQL.

`database_url` chooses: empty means SQLite at `<data_dir>/voxhub.db`; `sqlite:///<path>` another SQLite
file (`sqlite:////abs/path` for an absolute one); `postgresql://user:password@host:port/db` PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from voxhub.config import Settings
from voxhub.errors import ConfigError
from voxhub.sessions.store.base import TABLES, Store, StoredSession, Table
from voxhub.sessions.store.migrations import LATEST, MIGRATIONS
from voxhub.sessions.store.sqlite import SessionStore, SqliteStore

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "TABLES",
    "SessionStore",
    "SqliteStore",
    "Store",
    "StoredSession",
    "Table",
    "database_url",
    "is_postgres",
    "open_configured_store",
    "open_store",
]


def database_url(settings: Settings) -> str:
    """The settings' `database_url`, or the default SQLite file as a URL."""
    return settings.database_url or f"sqlite:///{settings.sqlite_path}"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_file(url: str) -> Path:
    """The file of a `sqlite:///path` URL; a plain path is taken as it is (for the `voxhub db` commands)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    if "://" in url:
        raise ConfigError(
            f"database_url (VOXHUB_DATABASE_URL) must be sqlite:///<path> or postgresql://..., got {url!r}",
            details={"setting": "database_url"},
        )
    return Path(url)


async def open_store(
    url: str, *, pool_size: int = 10, timeout_secs: float = 5.0, migrate: bool | None = True
) -> Store:
    """Open the store `url` names. SQLite always migrates; PostgreSQL does when `migrate` is True, refuses
    a schema that is not current when it is False (`voxhub db migrate` moves it), and neither when None.
    """
    if is_postgres(url):
        from voxhub.sessions.store.postgres import PostgresStore

        return await PostgresStore.open(url, pool_size=pool_size, timeout_secs=timeout_secs, migrate=migrate)
    return await SqliteStore.open(sqlite_file(url))


async def open_configured_store(settings: Settings) -> Store:
    """The store the settings name, with their pool size, timeout and migration choice."""
    return await open_store(
        database_url(settings),
        pool_size=settings.database_pool_size,
        timeout_secs=settings.database_timeout_secs,
        migrate=settings.database_migrate_on_start,
    )
