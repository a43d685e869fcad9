"""What every settings mixin uses: the environment prefix, the earlier servers' variable names, defaults."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices

ENV_PREFIX = "VOXHUB_"  # also in voxhub.environment
WYOMING_PORT = 10900  # not 10200/10300/10400: those are the Piper, Whisper and openWakeWord add-ons' ports


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return f"{ENV_PREFIX}{field.upper()}"


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/voxhub`, else `~/.local/share/voxhub`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "voxhub"


def seed_alias(field: str, *plain: str) -> AliasChoices:
    """Accept `VOXHUB_FIELD`, the field name (YAML, keyword), and the earlier servers' plain variables."""
    return AliasChoices(env_name(field), *(plain or (field.upper(),)))
