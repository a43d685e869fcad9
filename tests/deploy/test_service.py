"""`voxhub service`: the systemd unit it writes passes `systemd-analyze verify` and runs this environment."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voxhub import __version__
from voxhub.cli import app

runner = CliRunner()
needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="Debian's systemd package is not installed"
)


def install(tmp_path: Path, *options: str) -> Path:
    unit_dir = tmp_path / "units"
    env_file = tmp_path / "etc" / "voxhub.env"
    result = runner.invoke(
        app,
        [
            "service",
            "install",
            "--unit-dir",
            str(unit_dir),
            "--env-file",
            str(env_file),
            "--no-start",
            *options,
        ],
    )
    assert result.exit_code == 0, result.output
    return unit_dir / "voxhub.service"


def verify(unit: Path, tmp_path: Path, *mode: str) -> str:
    """What `systemd-analyze verify` says about the unit: nothing when it is clean (it exits 0 on warnings)."""
    runtime = tmp_path / "runtime"  # the user manager it simulates needs a runtime directory
    runtime.mkdir(mode=0o700, exist_ok=True)
    done = subprocess.run(
        ["systemd-analyze", *mode, "verify", str(unit)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        check=False,
    )
    return (
        f"exit {done.returncode}: {done.stdout}{done.stderr}"
        if done.returncode
        else done.stdout + done.stderr
    )


def setting(unit: Path, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.read_text().splitlines() if line.startswith(f"{key}=")]


@needs_systemd_analyze
def test_the_system_unit_is_clean_for_systemd_analyze(tmp_path: Path) -> None:
    unit = install(tmp_path)
    assert verify(unit, tmp_path) == ""


@needs_systemd_analyze
def test_the_user_unit_is_clean_for_systemd_analyze(tmp_path: Path) -> None:
    unit = install(tmp_path, "--user")
    assert verify(unit, tmp_path, "--user") == ""


@needs_systemd_analyze
def test_systemd_analyze_reports_what_is_wrong_with_a_unit(tmp_path: Path) -> None:
    unit = install(tmp_path)
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    assert "sometimes" in verify(unit, tmp_path)  # so an empty report above means a clean unit


def test_the_unit_runs_this_environments_python_and_restarts_on_failure(tmp_path: Path) -> None:
    unit = install(tmp_path)
    (exec_start,) = setting(unit, "ExecStart")
    assert shlex.split(exec_start) == [sys.executable, "-m", "voxhub", "serve"]
    assert setting(unit, "Restart") == ["on-failure"]
    assert setting(unit, "EnvironmentFile") == [f"-{tmp_path / 'etc' / 'voxhub.env'}"]
    assert {"NoNewPrivileges", "ProtectSystem", "PrivateTmp", "CapabilityBoundingSet"} <= {
        line.split("=", 1)[0] for line in unit.read_text().splitlines()
    }


def test_the_units_command_line_starts_voxhub(tmp_path: Path) -> None:
    (exec_start,) = setting(install(tmp_path), "ExecStart")
    python, *args = shlex.split(exec_start)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run(
        [python, *args[:2], "version"], capture_output=True, text=True, env=env, check=False
    )
    assert done.stdout.strip() == __version__, done.stderr


def test_a_config_file_is_passed_to_serve(tmp_path: Path) -> None:
    config = tmp_path / "my settings.yaml"
    (exec_start,) = setting(install(tmp_path, "--config", str(config)), "ExecStart")
    assert shlex.split(exec_start)[-2:] == ["--config", str(config)]


def test_install_writes_a_private_settings_file_and_keeps_an_existing_one(tmp_path: Path) -> None:
    install(tmp_path)
    env_file = tmp_path / "etc" / "voxhub.env"
    assert env_file.stat().st_mode & 0o077 == 0  # it may hold the auth token
    assert "#VOXHUB_AUTH_TOKEN=" in env_file.read_text()
    env_file.write_text("VOXHUB_PORT=9000\n")
    install(tmp_path)
    assert env_file.read_text() == "VOXHUB_PORT=9000\n"


def test_a_system_service_runs_as_the_named_user(tmp_path: Path) -> None:
    unit = install(tmp_path, "--run-as", "voxhub")
    assert setting(unit, "User") == ["voxhub"]
    assert setting(unit, "DynamicUser") == []


def test_status_says_when_the_service_is_not_installed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["service", "status", "--unit-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert "not installed" in result.stdout


def test_uninstall_removes_the_unit_and_keeps_the_settings(tmp_path: Path) -> None:
    unit = install(tmp_path)
    result = runner.invoke(app, ["service", "uninstall", "--unit-dir", str(unit.parent)])
    assert result.exit_code == 0, result.output
    assert not unit.exists()
    assert (tmp_path / "etc" / "voxhub.env").exists()
