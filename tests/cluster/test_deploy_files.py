"""The three-instance deployment as shipped: compose's `scale` profile and the nginx configuration."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cluster.processes import NGINX_CONF, ROOT, Nginx, Voxhub, nginx_binary

pytestmark = pytest.mark.cluster


def test_the_scale_profile_runs_three_instances_behind_nginx_with_redis_and_postgres() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    scaled = sorted(name for name, service in services.items() if service.get("profiles") == ["scale"])
    assert scaled == ["nginx", "postgres", "redis", "voxhub1", "voxhub2", "voxhub3"]
    ids = {services[f"voxhub{n}"]["environment"]["VOXHUB_INSTANCE_ID"] for n in (1, 2, 3)}
    assert ids == {"voxhub1", "voxhub2", "voxhub3"}
    assert all("VOXHUB_REDIS_URL" in services[f"voxhub{n}"]["environment"] for n in (1, 2, 3))
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert all(
        services["nginx"]["depends_on"][f"voxhub{n}"] == {"condition": "service_healthy"} for n in (1, 2, 3)
    )


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_docker_compose_accepts_the_scale_profile() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "compose.yaml"), "--profile", "scale", "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_nginx_accepts_the_shipped_configuration(tmp_path: Path) -> None:
    instances = [Voxhub(f"v{n}", tmp_path, {}) for n in (1, 2, 3)]
    conf = tmp_path / "nginx.conf"
    conf.write_text(Nginx(tmp_path, instances).config(), encoding="utf-8")
    done = subprocess.run(
        [
            nginx_binary(),
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(conf),
            "-e",
            str(tmp_path / "error.log"),
            "-g",
            f"pid {tmp_path / 'nginx.pid'};",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "hash $voxhub_session consistent" in NGINX_CONF.read_text()
