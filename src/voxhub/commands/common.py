"""What every command shares: the `--config` option, settings, engine loading, and typed errors as one line."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from voxhub.config import Settings, load_settings
from voxhub.console import engine_progress, stderr
from voxhub.engines.loader import Engines
from voxhub.engines.registry import Stage
from voxhub.errors import ConfigError, ModelError, VoxhubError

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML settings file (keys as in docs/configuration.md).")
]
T = TypeVar("T")


@contextmanager
def reported_errors() -> Iterator[None]:
    """Print voxhub's typed errors as one line and exit non-zero, instead of a traceback."""
    try:
        yield
    except ConfigError as exc:
        stderr.print(f"[bold red]configuration error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    except ModelError as exc:  # missing or damaged model files: fixed by installing, like a setting
        stderr.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    except VoxhubError as exc:
        stderr.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, its voxhub errors reported as one line."""
    with reported_errors():
        return asyncio.run(coroutine)


def read_settings(config: Path | None, **overrides: Any) -> Settings:
    """The settings, with the command's options that were given (not None) over them."""
    with reported_errors():
        return load_settings(config, **{key: value for key, value in overrides.items() if value is not None})


async def load_engines(settings: Settings, *stages: Stage) -> Engines:
    """The configured engines of `stages`, with a spinner each while it loads."""
    with engine_progress() as progress:
        return await Engines.load(settings, stages, progress)
