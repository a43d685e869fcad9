"""The Wyoming server starts and stops with the app, and can be switched off."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from tests.api.live import free_port, live_server
from voxhub.config import load_settings
from voxhub.engines.pool import EnginePool


async def test_switched_off_nothing_listens_on_the_wyoming_port(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool
) -> None:
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path / "data", models_dir=models_dir, wyoming_enabled=False, wyoming_port=port
    )
    async with live_server(settings, engine_pool):
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)


@pytest.mark.skipif(importlib.util.find_spec("zeroconf") is not None, reason="zeroconf is installed")
async def test_zeroconf_asked_for_without_the_package_warns_and_serves_anyway(
    tmp_path: Path, models_dir: Path, engine_pool: EnginePool, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = load_settings(
        data_dir=tmp_path / "data",
        models_dir=models_dir,
        wyoming_enabled=True,
        wyoming_port=port,
        wyoming_zeroconf=True,
    )
    async with live_server(settings, engine_pool):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    assert "`zeroconf` package is not installed" in caplog.text
