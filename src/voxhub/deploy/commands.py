"""`voxhub service install|uninstall|status` and `voxhub cert`: the commands cli.py registers."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from voxhub.config import load_settings
from voxhub.console import stderr, stdout
from voxhub.deploy.certs import lan_addresses, lan_names, make_certificate, write_certificate
from voxhub.deploy.service import (
    UNIT_NAME,
    ServiceLayout,
    default_layout,
    env_template,
    interpreter,
    next_steps,
    render_unit,
)

service_app = typer.Typer(
    help="Run `voxhub serve` as a systemd service that starts at boot (or at login with --user).",
    no_args_is_help=True,
)

UserOption = Annotated[
    bool, typer.Option("--user", help="A per-user service (systemctl --user) instead of a system one.")
]
UnitDirOption = Annotated[
    Path | None,
    typer.Option(
        help="Directory for voxhub.service (default: /etc/systemd/system, or ~/.config/systemd/user)."
    ),
]


def _systemctl(layout: ServiceLayout, *args: str) -> tuple[bool, str]:
    """Run systemctl; (whether it succeeded, what it printed). Never raises: systemd may be absent."""
    if shutil.which("systemctl") is None:
        return False, "systemctl is not installed on this machine"
    done = subprocess.run([*layout.systemctl, *args], capture_output=True, text=True, check=False)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


@service_app.command("install")
def install(
    user: UserOption = False,
    unit_dir: UnitDirOption = None,
    env_file: Annotated[
        Path | None,
        typer.Option(
            help="Settings file the service reads (default: /etc/voxhub/voxhub.env, or ~/.config/voxhub/voxhub.env)."
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML settings file passed to `voxhub serve`.")] = None,
    run_as: Annotated[
        str | None,
        typer.Option(help="System service only: run as this user instead of a fresh dynamic one."),
    ] = None,
    start: Annotated[
        bool, typer.Option(help="Reload systemd, then enable and start the service now.")
    ] = True,
) -> None:
    """Write voxhub.service for this environment's Python (and an environment file if there is none)."""
    if user and run_as:
        stderr.print("[bold red]error:[/] --run-as is for a system service; a --user one runs as you")
        raise typer.Exit(2)
    layout = default_layout(user, unit_dir, env_file)
    python = interpreter()
    if not user and run_as is None and str(python).startswith(("/root/", "/home/")):
        stderr.print(
            f"[yellow]warning:[/] {python} is in a home directory the service's own user may not read; "
            "use --run-as YOUR_USER, --user, or a venv under /opt",
            highlight=False,
        )
    try:
        layout.unit_dir.mkdir(parents=True, exist_ok=True)
        layout.unit_path.write_text(render_unit(layout, python=python, config=config, run_as=run_as))
        if not layout.env_file.exists():
            layout.env_file.parent.mkdir(parents=True, exist_ok=True)
            layout.env_file.touch(mode=0o600)
            layout.env_file.write_text(env_template(layout))
    except PermissionError as exc:
        stderr.print(f"[bold red]error:[/] cannot write {exc.filename}: run with sudo, or use --user")
        raise typer.Exit(1) from None
    stdout.print(f"wrote {layout.unit_path}", highlight=False)
    stdout.print(f"settings: {layout.env_file}", highlight=False)
    steps = next_steps(layout)
    if not start:
        stdout.print("next:\n" + "\n".join(f"  {step}" for step in steps), highlight=False)
        return
    for args in (("daemon-reload",), ("enable", "--now", UNIT_NAME)):
        ok, said = _systemctl(layout, *args)
        if not ok:
            stderr.print(f"[bold red]error:[/] systemctl {' '.join(args)} failed: {said}", highlight=False)
            stderr.print("the unit is written; once systemd runs, do:\n" + "\n".join(f"  {s}" for s in steps))
            raise typer.Exit(1)
    stdout.print(f"started; install its models if you have not: {steps[0]}", highlight=False)


@service_app.command("uninstall")
def uninstall(user: UserOption = False, unit_dir: UnitDirOption = None) -> None:
    """Stop and disable the service and remove its unit (its settings file and data are kept)."""
    layout = default_layout(user, unit_dir)
    if not layout.unit_path.exists():
        stdout.print(f"not installed: there is no {layout.unit_path}", highlight=False)
        return
    _systemctl(layout, "disable", "--now", UNIT_NAME)  # best effort: systemd may not be running
    try:
        layout.unit_path.unlink()
    except PermissionError:
        stderr.print(f"[bold red]error:[/] cannot remove {layout.unit_path}: run with sudo")
        raise typer.Exit(1) from None
    _systemctl(layout, "daemon-reload")
    stdout.print(f"removed {layout.unit_path}", highlight=False)
    stdout.print(f"kept {layout.env_file} and the data directory; delete them by hand if you wish")


@service_app.command("status")
def status(user: UserOption = False, unit_dir: UnitDirOption = None) -> None:
    """Whether the unit is installed, and what systemd says about it."""
    layout = default_layout(user, unit_dir)
    if not layout.unit_path.exists():
        stdout.print(f"not installed (no {layout.unit_path}); `voxhub service install` writes it")
        raise typer.Exit(3)  # systemctl status's own code for "not running"
    stdout.print(f"installed: {layout.unit_path}", highlight=False)
    ok, said = _systemctl(layout, "status", "--no-pager", UNIT_NAME)
    if said:
        stdout.print(said, highlight=False, markup=False)
    if not ok:
        raise typer.Exit(3)


def cert(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to write voxhub.crt and voxhub.key (default: DATA_DIR/tls)."),
    ] = None,
    name: Annotated[
        list[str] | None, typer.Option("--name", help="Extra DNS name to cover (repeatable).")
    ] = None,
    address: Annotated[
        list[str] | None, typer.Option("--address", help="Extra IP address to cover (repeatable).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days the certificate is valid.")] = 825,
    force: Annotated[bool, typer.Option(help="Replace an existing certificate.")] = False,
) -> None:
    """Make a self-signed certificate for this machine's LAN names and addresses (https and wss)."""
    settings = load_settings()
    target = directory or settings.data_dir / "tls"
    if (target / "voxhub.crt").exists() and not force:
        stderr.print(
            f"[bold red]error:[/] {target / 'voxhub.crt'} exists; --force replaces it", highlight=False
        )
        raise typer.Exit(1)
    try:
        extra = [ipaddress.ip_address(text) for text in address or []]
    except ValueError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    names = list(dict.fromkeys([*lan_names(), *(name or [])]))
    addresses = list(dict.fromkeys([*lan_addresses(), *extra]))
    cert_path, key_path = write_certificate(target, *make_certificate(names, addresses, days=days))
    stdout.print(f"wrote {cert_path} and {key_path}", highlight=False)
    stdout.print(f"for: {', '.join([*names, *map(str, addresses)])}", highlight=False)
    stdout.print(
        f"serve with: voxhub serve --host 0.0.0.0 --ssl-certfile {cert_path} --ssl-keyfile {key_path}\n"
        f"browsers warn about a self-signed certificate once; to trust it, import {cert_path}",
        highlight=False,
    )
