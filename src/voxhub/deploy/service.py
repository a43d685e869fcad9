"""The systemd unit `voxhub service install` writes, and where it goes."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "voxhub.service"

# Sandboxing that needs no privileges: seccomp filters and personality locks work in user units too.
_COMMON_HARDENING = (
    "NoNewPrivileges=yes",
    "LockPersonality=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
    # AF_NETLINK: Zeroconf lists the network interfaces to announce the Wyoming service on.
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "UMask=0077",
)
# Namespaces and capability limits only the system manager can set up.
_SYSTEM_HARDENING = (
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "RestrictNamespaces=yes",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
)


@dataclass(frozen=True)
class ServiceLayout:
    """Where a system-wide or per-user service keeps its unit, its environment file and its data."""

    user: bool
    unit_dir: Path
    env_file: Path

    @property
    def unit_path(self) -> Path:
        return self.unit_dir / UNIT_NAME

    @property
    def systemctl(self) -> list[str]:
        return ["systemctl", "--user"] if self.user else ["systemctl"]


def default_layout(user: bool, unit_dir: Path | None = None, env_file: Path | None = None) -> ServiceLayout:
    """`/etc/systemd/system` and `/etc/voxhub/voxhub.env`, or the `~/.config` ones for `--user`."""
    if user:
        config_home = Path.home() / ".config"
        return ServiceLayout(
            True,
            unit_dir or config_home / "systemd" / "user",
            env_file or config_home / "voxhub" / "voxhub.env",
        )
    return ServiceLayout(
        False, unit_dir or Path("/etc/systemd/system"), env_file or Path("/etc/voxhub/voxhub.env")
    )


def interpreter() -> Path:
    """This environment's Python, as invoked: a venv's `bin/python` must not be resolved to the base one."""
    return Path(sys.executable).absolute()


def _quoted(argument: str) -> str:
    """One ExecStart= argument: systemd reads C-style double quotes; `%` and `$` are its specifiers."""
    escaped = argument.replace("%", "%%").replace("$", "$$")
    if escaped and not any(char in escaped for char in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_unit(
    layout: ServiceLayout,
    *,
    python: Path | None = None,
    config: Path | None = None,
    run_as: str | None = None,
) -> str:
    """The unit file's text: `python -m voxhub serve`, restarted on failure, sandboxed."""
    command = [str(python or interpreter()), "-m", "voxhub", "serve"]
    if config is not None:
        command += ["--config", str(config.absolute())]
    service = [
        "Type=exec",
        "ExecStart=" + " ".join(_quoted(part) for part in command),
        # The leading `-`: a missing file is no error; settings then come from the defaults.
        f"EnvironmentFile=-{layout.env_file}",
        "Environment=PYTHONUNBUFFERED=1",
    ]
    if layout.user:
        service += ["WorkingDirectory=%h"]
    else:
        # systemd creates /var/lib/voxhub for the service's user; models and history live there.
        service += [
            "StateDirectory=voxhub",
            "WorkingDirectory=%S/voxhub",
            "Environment=VOXHUB_DATA_DIR=%S/voxhub",
            f"User={run_as}" if run_as else "DynamicUser=yes",
        ]
    service += [
        "Restart=on-failure",
        "RestartSec=5",
        # Exit code 2 is a bad setting or a missing model: starting again would only fail again.
        "RestartPreventExitStatus=2",
        "TimeoutStopSec=20",
        *_COMMON_HARDENING,
        *(() if layout.user else _SYSTEM_HARDENING),
    ]
    lines = [
        "# Written by `voxhub service install`; `voxhub service uninstall` removes it.",
        "[Unit]",
        "Description=voxhub voice and text assistant server",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        *service,
        "",
        "[Install]",
        f"WantedBy={'default.target' if layout.user else 'multi-user.target'}",
        "",
    ]
    return "\n".join(lines)


ENV_TEMPLATE = """\
# Settings of the voxhub service, one VOXHUB_NAME=value a line (docs/configuration.md lists them all).
# This file may hold secrets, so only its owner can read it. After a change: systemctl{user} restart voxhub
#VOXHUB_HOST=0.0.0.0
#VOXHUB_PORT=8129
#VOXHUB_AUTH_TOKEN=
#VOXHUB_SSL_CERTFILE=
#VOXHUB_SSL_KEYFILE=
"""


def env_template(layout: ServiceLayout) -> str:
    return ENV_TEMPLATE.format(user=" --user" if layout.user else "")


def next_steps(layout: ServiceLayout) -> list[str]:
    """What to run after the unit is written: models for the service's data dir, then start it."""
    systemctl = shlex.join(layout.systemctl)
    if layout.user:
        models = "voxhub models install"
    else:
        models = (
            f"sudo VOXHUB_DATA_DIR=/var/lib/voxhub {shlex.quote(str(interpreter()))} -m voxhub models install"
        )
    return [models, f"{systemctl} daemon-reload", f"{systemctl} enable --now voxhub"]
