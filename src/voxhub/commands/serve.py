"""`voxhub serve`: the HTTP, WebSocket and Wyoming server, after what can be checked first is checked."""

from __future__ import annotations

import asyncio
import enum
import signal
from pathlib import Path
from typing import Annotated

import typer

from voxhub.commands.common import ConfigOption, read_settings, reported_errors
from voxhub.config import Settings
from voxhub.deploy.certs import check_tls
from voxhub.engines.registry import check_settings


class Role(enum.StrEnum):
    all = "all"
    engines = "engines"


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: host setting).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: port setting, 8129).")] = None,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="PEM certificate: serve https/wss (default: ssl_certfile setting).")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="PEM private key of the certificate (default: ssl_keyfile setting).")
    ] = None,
    role: Annotated[
        Role,
        typer.Option(
            help="`all`: the whole server; `engines`: only speech to text, text to speech and wake words over"
            " Wyoming (`wyoming_port`), for other instances' `wyoming` engines (no LLM, no HTTP)."
        ),
    ] = Role.all,
    config: ConfigOption = None,
) -> None:
    """Run the HTTP and WebSocket server with the configured engines, until Ctrl-C or SIGTERM."""
    settings = read_settings(config, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    if role is Role.engines:
        _serve_engines(settings)
        return
    # Imported here, not at the top: the other commands start faster without the server stack.
    import uvicorn

    from voxhub.api.logging import configure_logging
    from voxhub.api.slow_clients import raise_open_files_limit
    from voxhub.server import check_ports, create_app, server_options, startup_error

    with reported_errors():  # what can be checked before the engines load, said in one line
        check_settings(settings)
        check_tls(settings.ssl_certfile, settings.ssl_keyfile)
        check_ports(settings)
    configure_logging(settings)
    raise_open_files_limit()  # slow clients are cut off, but many fast ones still need descriptors
    application = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host=settings.host,
            port=settings.port,
            lifespan="on",
            log_config=None,  # keep voxhub's JSON log lines
            access_log=False,  # voxhub logs each request itself, with its duration
            **server_options(settings),
        )
    )
    # uvicorn re-raises the signal that stopped it once it has shut down; a requested stop exits 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_quietly)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn's own exit when the start-up failed
        if startup_error(application) is None:
            raise
        raise typer.Exit(2) from exc  # a known start-up error: its log line said why, in one sentence
    if not server.started:
        raise typer.Exit(2 if startup_error(application) is not None else 1)  # the log says why


def _serve_engines(settings: Settings) -> None:
    """`--role engines`: the Wyoming engines only, until Ctrl-C or SIGTERM."""
    from voxhub.api.logging import configure_logging
    from voxhub.protocols.wyoming.engines_role import serve_engines

    with reported_errors():
        check_settings(settings)
    configure_logging(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, stop.set)
        await serve_engines(settings, stop)

    with reported_errors():
        asyncio.run(run())


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)
