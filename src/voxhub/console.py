"""Rich output for the CLI: progress bars for model work and engine loading, and error printing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from voxhub.engines.loader import LoadProgress
from voxhub.engines.registry import Stage
from voxhub.models.store import ProgressCallback

stdout = Console()
stderr = Console(stderr=True)


@contextmanager
def byte_progress() -> Iterator[ProgressCallback]:
    """A progress bar per step (download, check, unpack), fed by model-store callbacks."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=stderr,
        transient=False,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(description: str, done: int, total: int) -> None:
            if description not in tasks:
                tasks[description] = progress.add_task(description, total=total or None)
            progress.update(tasks[description], completed=done, total=total or None)

        yield report


@contextmanager
def engine_progress() -> Iterator[LoadProgress]:
    """A spinner per engine while it loads and warms up, ticked off when ready."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr, transient=True
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: Stage, name: str, finished: bool) -> None:
            key = f"{stage}:{name}"
            if not finished:
                tasks[key] = progress.add_task(f"loading {stage} engine [bold]{name}[/]", total=1)
            else:
                progress.update(tasks[key], completed=1, description=f"{stage} engine [bold]{name}[/] ready")

        yield report
