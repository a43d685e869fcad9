"""`python -m voxhub`: the `voxhub` command, for when only the interpreter's path is known (systemd units)."""

from __future__ import annotations

from voxhub.cli import app

app(prog_name="voxhub")
