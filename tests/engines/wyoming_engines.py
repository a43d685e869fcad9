"""`voxhub serve --role engines` in another process, for the `wyoming` engines' tests against the real thing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.doubles.wyoming_server import free_port


@pytest.fixture(scope="module")
async def engines_server(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> AsyncIterator[int]:
    """`voxhub serve --role engines` in another process on a free port; yields the port once it answers."""
    port = free_port()
    tmp_path = tmp_path_factory.mktemp("engines")
    env = {
        **os.environ,
        "VOXHUB_DATA_DIR": str(tmp_path / "data"),
        "VOXHUB_MODELS_DIR": str(models_dir),
        "VOXHUB_WYOMING_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voxhub", "serve", "--role", "engines", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(180):  # until it logs that its engines are loaded and it listens
            while b"voxhub engines ready" not in (line := await process.stderr.readline()):
                assert line, "the engines server exited before it was ready"
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
