"""`voxhub db migrate` and `voxhub db copy SRC DST`: the database's schema, and moving an install.

SRC and DST are database URLs (`sqlite:///path`, `postgresql://user:password@host/db`) or SQLite file paths.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from voxhub.agent.autofunction.store import AutoFunctionStore
from voxhub.agent.personas import PersonaStore, parse_persona
from voxhub.commands.common import ConfigOption, read_settings, run
from voxhub.config import Settings
from voxhub.console import stderr, stdout
from voxhub.sessions.store import Store, database_url, is_postgres, open_store
from voxhub.sessions.store.migrations import LATEST
from voxhub.sessions.store.transfer import copy_store

db_app = typer.Typer(
    help="The database: migrate its schema, or copy an install into another database (SQLite to PostgreSQL).",
    no_args_is_help=True,
)


@db_app.command()
def migrate(
    url: Annotated[
        str | None, typer.Argument(help="The database (default: the `database_url` setting).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Bring the database's schema to this voxhub's version (instances migrate at start-up by default)."""
    settings = read_settings(config)
    target = url or database_url(settings)
    run(_migrate(target, settings))


async def _migrate(url: str, settings: Settings) -> None:
    store = await open_store(url, timeout_secs=settings.database_timeout_secs, migrate=None)
    try:
        applied = await store.migrate()
        if applied:
            versions = ", ".join(str(version) for version in applied)
            stdout.print(
                f"{store.location}: migrated to schema version {LATEST} (applied {versions})",
                soft_wrap=True,
                highlight=False,
            )
        else:
            version = await store.schema_version()
            stdout.print(
                f"{store.location}: already at schema version {version}", soft_wrap=True, highlight=False
            )
    finally:
        await store.close()


@db_app.command()
def copy(
    source: Annotated[str, typer.Argument(help="The database to copy from (e.g. the SQLite file).")],
    target: Annotated[str, typer.Argument(help="An empty database to copy into (e.g. postgresql://...).")],
    batch: Annotated[int, typer.Option(min=1, help="Rows written per transaction.")] = 500,
    files: Annotated[
        bool,
        typer.Option(
            help="Into PostgreSQL, also copy the personas and generated tools kept as files in `data_dir`."
        ),
    ] = True,
    config: ConfigOption = None,
) -> None:
    """Copy every session, message, summary, note, profile and document from SOURCE into TARGET."""
    settings = read_settings(config)
    run(_copy(source, target, batch, files and is_postgres(target), settings))


async def _copy(source_url: str, target_url: str, batch: int, files: bool, settings: Settings) -> None:
    timeout = settings.database_timeout_secs
    source = await open_store(source_url, timeout_secs=timeout)
    try:
        target = await open_store(target_url, timeout_secs=timeout)
        try:
            started = time.monotonic()
            with _table_progress() as progress:
                counts = await copy_store(source, target, batch=batch, progress=progress)
            if files:
                counts |= await _copy_files(settings.data_dir, target)
            elapsed = time.monotonic() - started
        finally:
            await target.close()
    finally:
        await source.close()
    table = Table("what", "rows", title=f"{source.location} → {target.location}")
    for name, count in counts.items():
        table.add_row(name, str(count))
    stdout.print(table)
    stdout.print(f"copied {sum(counts.values())} rows in {elapsed:.1f} s", soft_wrap=True, highlight=False)


@contextmanager
def _table_progress() -> Iterator[Any]:
    """A progress bar per table, on stderr: `(table, copied, total)` moves it."""
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), console=stderr
    ) as bars:

        def progress(table: str, copied: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bars.add_task(table, total=max(total, copied))
            bars.update(tasks[table], completed=copied, total=max(total, copied))

        yield progress


async def _copy_files(data_dir: Path, target: Store) -> dict[str, int]:
    """The user's persona YAML files and generated tools from `data_dir`, as documents in `target`."""
    folder = data_dir / "personas"
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    personas = PersonaStore(folder, target)
    for path in paths:
        document = yaml.safe_load(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        await personas.save(parse_persona(document, str(path)))
    functions = await AutoFunctionStore(data_dir / "autofunctions").all()
    stored = AutoFunctionStore(data_dir / "autofunctions", target)
    for function in functions:
        await stored.save(function)
    return {"persona files": len(paths), "autofunction files": len(functions)}
