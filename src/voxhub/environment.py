"""The environment as a user left it: the earlier servers' variables and mistyped `VOXHUB_*` names, reported.

Settings read `VOXHUB_*` variables and the plain names the earlier servers documented (see each field's
alias in `voxhub.config`); this module says out loud what is *not* read, so nothing is silently ignored.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values

ENV_PREFIX = "VOXHUB_"
ENV_FILE = Path(".env")

# The earlier servers' documented variables voxhub has no setting for, with what to do instead.
UNSUPPORTED: dict[str, str] = {
    "ENABLE_METRICS": "metrics are always on, at /metrics and /api/v1/metrics",
    "ACCESS_LOG": "voxhub logs each request itself; VOXHUB_LOG_LEVEL=WARNING hides those lines",
    "GOOGLE_APPLICATION_CREDENTIALS": "voxhub has no Google Cloud engines: speech runs offline "
    "(or through VOXHUB_OPENAI_BASE_URL)",
    "GOOGLE_TTS_VOICE": "voxhub has no Google TTS engine; choose a voice with VOXHUB_TTS_VOICE",
    "STT_SERVER_DEBUG": "use VOXHUB_LOG_LEVEL=DEBUG",
    "STT_SERVER_AUTH_ENABLED": "auth is on whenever a token is set (VOXHUB_AUTH_TOKEN or STT_SERVER_AUTH_TOKEN)",
    "PORCUPINE_ACCESS_KEY": "voxhub has no Porcupine engine; wake words run offline with microWakeWord "
    "(VOXHUB_WAKE_WORDS)",
    "INTERNAL_API_KEY": "use VOXHUB_AUTH_TOKEN, the bearer token every route but /health requires",
}
# `VOXHUB_*` names that are not settings but are read by voxhub's scripts and files.
OTHER_NAMES = frozenset({"VOXHUB_CONFIG", "VOXHUB_DOMAIN", "VOXHUB_BIN", "VOXHUB_PORT_PUBLISHED"})
_TRUE = frozenset({"1", "true", "yes", "on"})


def user_environment(environ: Mapping[str, str] | None = None, env_file: Path = ENV_FILE) -> dict[str, str]:
    """The process environment over the working directory's `.env` (as settings read them)."""
    merged: dict[str, str] = {}
    if env_file.is_file():
        merged.update({key: value for key, value in dotenv_values(env_file).items() if value is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def environment_warnings(environ: Mapping[str, str], known_settings: Iterable[str]) -> list[str]:
    """One sentence per variable voxhub will not use: an earlier server's, or a `VOXHUB_*` it does not know."""
    known = {f"{ENV_PREFIX}{name.upper()}" for name in known_settings} | OTHER_NAMES
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if upper in UNSUPPORTED:
            warnings.append(f"{name} is not supported: {UNSUPPORTED[upper]}")
        elif upper.startswith(ENV_PREFIX) and upper not in known:
            close = difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else "; docs/configuration.md lists every setting"
            warnings.append(f"{name} is not a voxhub setting and is ignored{hint}")
    return warnings


def auth_asked_without_token(environ: Mapping[str, str], has_token: bool) -> bool:
    """Seed 004's `STT_SERVER_AUTH_ENABLED=true` with no token: the user expects a closed server."""
    enabled = {key.upper(): value for key, value in environ.items()}.get("STT_SERVER_AUTH_ENABLED", "")
    return enabled.strip().lower() in _TRUE and not has_token
