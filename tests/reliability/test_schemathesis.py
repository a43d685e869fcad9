"""Every HTTP operation, fuzzed from its own OpenAPI document by schemathesis against `voxhub serve`.

For each operation schemathesis sends valid and invalid requests built from the published schema. Whatever
it sends, no answer is a 5xx, every status is one the operation documents, and every body (errors included:
`{error, message, details, status_code, timestamp}`) matches the documented schema. A bounded run, so it fits
`make test`; `make reliability` runs the long one (`SCHEMATHESIS_EXAMPLES`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "2"))
# The bounded run skips the stateful phase (chains of calls); `make reliability` runs every phase.
PHASES = os.environ.get("SCHEMATHESIS_PHASES", "examples,coverage,fuzzing")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[str]:
    """`voxhub serve` in its own process, as an operator runs it; yields its base URL once it is ready."""
    port = _free_port()
    env = {
        **os.environ,
        "VOXHUB_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "VOXHUB_MODELS_DIR": str(models_dir),
        "VOXHUB_WYOMING_ENABLED": "false",
        "VOXHUB_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("voxhub")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, (
                f"the server exited: {process.stderr.read() if process.stderr else ''}"
            )
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.slow
@pytest.mark.timeout(1500)  # a few minutes idle; much more beside other work on 2 cores
def test_no_request_gets_a_server_error_or_an_undocumented_answer(served: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{served}/openapi.json",
            f"--checks={CHECKS}",
            f"--max-examples={EXAMPLES}",
            f"--phases={PHASES}",
            "--seed=20261207",  # the same requests every run: a failure here can be rerun
            "--request-timeout=120",
            "--workers=2",
            "--no-color",
            f"--report-dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=tmp_path,  # schemathesis keeps its cache of crashes in the working directory
    )
    summary = run.stdout[-6000:]
    assert run.returncode == 0, summary
    assert "Failures:" not in run.stdout, summary
