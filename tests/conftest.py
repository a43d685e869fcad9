"""Shared fixtures: settings that keep state in a temporary directory but use the installed models."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# A real Home Assistant (session scoped, from `make home-assistant`) for any test package that needs it.
from tests.home_assistant import home_assistant, pytest_runtest_makereport  # noqa: F401
from voxhub.config import Settings, load_settings
from voxhub.engines.pool import EnginePool

# Every test app would otherwise bind the Wyoming server's fixed port 10900; tests of it turn it on with a
# free port of their own.
os.environ.setdefault("VOXHUB_WYOMING_ENABLED", "false")
# `llm_engine: auto` would look for LLM servers on this machine's usual ports; tests point it at test doubles.
os.environ.setdefault("VOXHUB_LLM_AUTO_SERVERS", "{}")
# A greeting would open every native-socket conversation with an extra answer; tests of it turn it on.
os.environ.setdefault("VOXHUB_GREETING_ENABLED", "false")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Where `make test` ran `voxhub models install` (the default data directory's models)."""
    return load_settings().models_root


@pytest.fixture
def settings(tmp_path: Path, models_dir: Path) -> Settings:
    """Default settings with a fresh data directory."""
    return load_settings(data_dir=tmp_path / "data", models_dir=models_dir)


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Settings:
    """Default settings shared by a whole test session (for engines loaded once)."""
    return load_settings(data_dir=tmp_path_factory.mktemp("data"), models_dir=models_dir)


@pytest.fixture(scope="session")
async def engine_pool(session_settings: Settings) -> AsyncIterator[EnginePool]:
    """The configured engines, loaded once (about 2 s) and shared by every app and conversation in the run."""
    pool = await EnginePool.load(session_settings)
    yield pool
    await pool.aclose()
