"""`voxhub serve` as an operator runs it: it starts, answers /health, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_health(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited before answering"
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url}")


@pytest.mark.slow
def test_serve_answers_health_and_exits_cleanly_on_sigterm(tmp_path: Path, models_dir: Path) -> None:
    port = _free_port()
    env = {**os.environ, "VOXHUB_DATA_DIR": str(tmp_path / "data"), "VOXHUB_MODELS_DIR": str(models_dir)}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("voxhub")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = _wait_for_health(f"http://127.0.0.1:{port}/health", process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert health.json()["server_info"]["max_connections"] == 25
    assert process.returncode == 0, stderr
    log = [json.loads(line) for line in stderr.splitlines()]
    assert any(line["message"] == "voxhub ready" for line in log)
    assert log[-1]["message"].startswith("Finished server process")
    assert (tmp_path / "data" / "voxhub.db").is_file()
