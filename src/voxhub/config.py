"""Settings: `VOXHUB_*` environment variables over an optional YAML file over defaults.

The fields live in `voxhub.settings`, one mixin per concern; `Settings` joins them here with the rules that
span several (distinct ports, list parsing), where the values come from, and how errors are told."""

from __future__ import annotations

import json
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from voxhub.environment import auth_asked_without_token, user_environment
from voxhub.environment import environment_warnings as _environment_warnings
from voxhub.errors import ConfigError
from voxhub.settings.assistant import (
    HomeAssistantFields,
    LlmFields,
    McpServerSetting,
    OpenAIFields,
    ToolFields,
)
from voxhub.settings.common import ENV_PREFIX, WYOMING_PORT, default_data_dir, env_name
from voxhub.settings.limits import AutoFunctionFields, LimitFields
from voxhub.settings.remote import RemoteEngineFields
from voxhub.settings.server import (
    ClusterFields,
    DatabaseFields,
    GeneralFields,
    ServerFields,
    WyomingFields,
)
from voxhub.settings.speech import SttFields, TtsFields, VadFields, WakeFields
from voxhub.settings.webhooks import WebhookFields

__all__ = [
    "ENV_PREFIX",
    "WYOMING_PORT",
    "McpServerSetting",
    "Settings",
    "default_data_dir",
    "env_name",
    "environment_warnings",
    "load_settings",
    "settings_markdown_table",
]

_yaml_file: ContextVar[Path | None] = ContextVar("voxhub_yaml_file", default=None)


# pydantic lists inherited fields from the last base to the first: the mixins are named here in reverse, so
# that the fields (and docs/configuration.md) read general, server, Wyoming, ... AutoFunction.
class Settings(
    WebhookFields,
    AutoFunctionFields,
    LimitFields,
    ToolFields,
    HomeAssistantFields,
    OpenAIFields,
    LlmFields,
    RemoteEngineFields,
    TtsFields,
    SttFields,
    WakeFields,
    VadFields,
    ClusterFields,
    DatabaseFields,
    WyomingFields,
    ServerFields,
    GeneralFields,
    BaseSettings,
):
    """Every setting voxhub reads; `docs/configuration.md` is generated from this class."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        validate_default=True,
        populate_by_name=True,
        env_file=".env",  # in the working directory, as the earlier servers read theirs
        env_file_encoding="utf-8",
        dotenv_filtering="only_existing",  # other programs' lines in .env are reported, not refused
    )

    @model_validator(mode="after")
    def _distinct_ports(self) -> Settings:
        ports = {"wyoming_port": self.wyoming_port}
        for name in ("wyoming_stt_port", "wyoming_tts_port", "wyoming_wake_port"):
            port = getattr(self, name)
            if port is not None:
                ports[name] = port
        if self.wyoming_enabled:
            ports = {"port": self.port, **ports}
            seen: dict[int, str] = {}
            for name, port in ports.items():
                if port in seen:
                    raise ValueError(f"{name} and {seen[port]} are both {port}; give each its own port")
                seen[port] = name
        return self

    @field_validator("llm_model", "tts_piper_model")
    @classmethod
    def _model_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"model file not found: {value}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator(
        "wake_words",
        "wake_custom_models",
        "cors_origins",
        "autofunction_allowed_modules",
        "llm_fallbacks",
        "stt_auto_languages",
        mode="before",
    )
    @classmethod
    def _split_wake_words(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [word.strip() for word in value.split(",") if word.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        yaml_file = _yaml_file.get()
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file used when no `database_url` is set."""
        return self.data_dir / "voxhub.db"

    @property
    def models_root(self) -> Path:
        """Where `voxhub models install` unpacks model files and split models are joined."""
        return self.models_dir or self.data_dir / "models"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings, or raise one ConfigError naming every bad setting."""
    if config_file is None and os.environ.get(env_name("config")):
        config_file = Path(os.environ[env_name("config")])
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    token = _yaml_file.set(config_file)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc), details={"errors": exc.errors(include_url=False)}) from None
    finally:
        _yaml_file.reset(token)
    if auth_asked_without_token(user_environment(), settings.auth_token is not None):
        raise ConfigError(
            f"STT_SERVER_AUTH_ENABLED is true but no token is set: set {env_name('auth_token')} (or "
            "STT_SERVER_AUTH_TOKEN); voxhub will not start an open server when auth was asked for",
            details={"setting": "auth_token"},
        )
    return settings


def environment_warnings() -> list[str]:
    """What in the environment and `.env` voxhub will not read, one sentence each (logged at start-up)."""
    return _environment_warnings(user_environment(), Settings.model_fields)


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        if not error["loc"]:  # a rule over several settings names them itself
            lines.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        field = _field_named(str(error["loc"][0]))
        shown = error.get("input")
        got = "" if isinstance(shown, dict) or shown is None else f" (got {shown!r})"
        lines.append(f"{field} ({env_name(field)}): {error['msg']}{got}")
    return "invalid settings: " + "; ".join(lines)


def _field_named(name: str) -> str:
    """The setting a validation error is about, when pydantic names it by the variable that set it."""
    for field_name, field in Settings.model_fields.items():
        aliases = field.validation_alias
        if isinstance(aliases, AliasChoices) and name in aliases.choices:
            return field_name
    return name


def settings_markdown_table() -> str:
    """The table of every setting, as `docs/configuration.md` shows it."""
    rows = ["| setting | environment variable | default | description |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "see below" if name == "data_dir" else repr(field.default_factory()).replace("'", "")  # type: ignore[call-arg]
        else:
            default = "" if field.default is None else str(field.default)
        default_cell = f"`{default}`" if default else "(empty)"
        rows.append(f"| `{name}` | `{env_name(name)}` | {default_cell} | {field.description or ''} |")
    return "\n".join(rows) + "\n"
