"""Rich output for the CLI: progress bars for model work and engine loading, and tables that fit 80 columns."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
from rich.table import Table

from voxhub.engines.loader import LoadProgress
from voxhub.engines.registry import Stage
from voxhub.models.store import ModelStatus, ProgressCallback

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


# -- tables that fit 80 columns ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineRow:
    """One line of `voxhub engines` (and one object of `--json`)."""

    stage: str
    engine: str
    configured: bool
    ready: bool
    model: str = ""
    languages: str = ""
    rate: str = ""
    load_secs: float | None = None
    reason: str = ""  # why it cannot load here, in full
    tools: bool | None = None  # an LLM: whether the model calls tools itself
    context_tokens: int | None = None  # an LLM: the context one conversation gets
    # The configured LLM: the chain in the order a turn tries it, each member as `llm_chain_rows` makes it.
    chain: list[dict[str, Any]] = field(default_factory=list)


def engine_table(rows: list[EngineRow]) -> Table:
    """Stage and engine, status with load time, then one wrapped details cell: fits 80 columns."""
    table = Table("stage", "engine", "status", "details", expand=False, pad_edge=False)
    table.columns[0].no_wrap = table.columns[1].no_wrap = table.columns[2].no_wrap = True
    for row in rows:
        name = row.engine + ("*" if row.configured else "")
        if row.ready:
            status = (
                f"[green]ready[/] {row.load_secs:.1f} s" if row.load_secs is not None else "[green]ready[/]"
            )
            details = " · ".join(part for part in (row.model, row.languages, row.rate, _llm(row)) if part)
        else:
            status, details = "[yellow]unavailable[/]", f"[dim]{_first_sentence(row.reason)}[/]"
        table.add_row(row.stage, name, status, details)
    return table


def _llm(row: EngineRow | dict[str, Any]) -> str:
    """An LLM's capabilities as `/v1/models` gives them: tools yes/no, the context size."""
    tools, context = (
        (row.tools, row.context_tokens)
        if isinstance(row, EngineRow)
        else (row["tools"], row["context_tokens"])
    )
    if tools is None:
        return ""
    return f"tools {'yes' if tools else 'no'} · {context or '?'}-token context"


def chain_table(chain: list[dict[str, Any]]) -> Table:
    """The configured LLM chain: which answers first, which stand behind it, and what each can do."""
    table = Table("#", "LLM", "role", "details", expand=False, pad_edge=False)
    table.columns[0].no_wrap = table.columns[2].no_wrap = True
    for index, member in enumerate(chain, 1):
        if member["ready"]:
            model = "" if member["model"] in member["llm"] else member["model"]
            details = " · ".join(part for part in (model, _llm(member)) if part)
        else:
            details = f"[dim]{_first_sentence(member['reason'])}[/]"
        table.add_row(str(index), member["llm"], member["role"], details)
    return table


def model_table(rows: list[ModelStatus], root: Path) -> Table:
    """Name, installed, and what it is with its package and place (relative to `root`) beneath."""
    table = Table("model", "installed", "what · package · where", expand=False, pad_edge=False)
    table.columns[0].no_wrap = True
    table.columns[2].overflow = "fold"  # a long path breaks anywhere rather than losing its end
    for row in rows:
        where = row.location
        with suppress(ValueError):
            where = str(Path(row.location).relative_to(root))
        if "/site-packages/" in where:  # a bundled model: its package's folder says enough
            where = "site-packages/" + where.split("/site-packages/", 1)[1]
        mark = "[green]yes[/]" if row.installed else "[yellow]no[/]"
        table.add_row(row.name, mark, f"{row.description}\n[dim]{row.package} · {where}[/]")
    return table


def as_json(rows: list[Any]) -> str:
    """Rows (dataclasses) as a JSON array, for scripts."""
    return json.dumps([asdict(row) for row in rows], indent=2)


def _first_sentence(text: str, limit: int = 90) -> str:
    """Enough of a reason to act on; `--json` has it whole."""
    cut = re.split(r"(?<=[.;:])\s", text, maxsplit=1)[0].rstrip(";:")
    return cut if len(cut) <= limit else cut[: limit - 1] + "…"
