"""The `voxhub` command: each group of subcommands lives in a module of `voxhub.commands`."""

from __future__ import annotations

from typing import Annotated

import typer

from voxhub import __version__
from voxhub.commands import chat, engines, models, serve, speech
from voxhub.commands.db import db_app
from voxhub.console import stdout
from voxhub.deploy.commands import cert, service_app

app = typer.Typer(
    help="voxhub: a self-hosted, offline voice and text assistant server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(models.app, name="models")
app.add_typer(service_app, name="service")
app.add_typer(db_app, name="db")
app.command()(cert)


def _print_version(value: bool) -> None:
    if value:
        stdout.print(f"voxhub {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """voxhub: a self-hosted, offline voice and text assistant server."""


@app.command()
def version() -> None:
    """Print voxhub's version."""
    stdout.print(__version__)


for command in (
    engines.engines,
    speech.transcribe,
    speech.say,
    chat.chat,
    speech.detect,
    serve.serve,
):
    app.command()(command)
