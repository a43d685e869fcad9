"""Shared fixtures: settings that keep state in a temporary directory but use the installed models."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxhub.config import Settings, load_settings


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
