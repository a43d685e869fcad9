"""Settings: `VOXHUB_*` environment variables over an optional YAML file over defaults."""

from __future__ import annotations

import json
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from voxhub.environment import auth_asked_without_token, user_environment
from voxhub.environment import environment_warnings as _environment_warnings
from voxhub.errors import ConfigError

ENV_PREFIX = "VOXHUB_"  # also in voxhub.environment
WYOMING_PORT = 10900  # not 10200/10300/10400: those are the Piper, Whisper and openWakeWord add-ons' ports
_yaml_file: ContextVar[Path | None] = ContextVar("voxhub_yaml_file", default=None)


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return f"{ENV_PREFIX}{field.upper()}"


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/voxhub`, else `~/.local/share/voxhub`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "voxhub"


class McpServerSetting(BaseModel):
    """One MCP server whose tools the assistant may call: `command` (+ `args`, `env`) over stdio, or `url`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    tool_prefix: str = ""

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSetting:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r}: give exactly one of `command` or `url`")
        return self


def _seed_alias(field: str, *plain: str) -> AliasChoices:
    """Accept `VOXHUB_FIELD`, the field name (YAML, keyword), and the earlier servers' plain variables."""
    return AliasChoices(env_name(field), *(plain or (field.upper(),)))


class Settings(BaseSettings):
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

    # general
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where models, history and state live."
    )
    models_dir: Path | None = Field(
        None, description="Where `voxhub models install` puts models; empty means `<data_dir>/models`."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        validation_alias=_seed_alias("log_level"),
        description="Log level (plain `LOG_LEVEL` works too).",
    )
    log_format: Literal["auto", "text", "json"] = Field(
        "auto",
        validation_alias=_seed_alias("log_format"),
        description="`text` (readable lines), `json` (one object a line), or `auto`: text on a terminal, "
        "JSON otherwise (plain `LOG_FORMAT` works too).",
    )

    # server
    host: str = Field(
        "127.0.0.1",
        validation_alias=_seed_alias("host", "STT_SERVER_HOST"),
        description="Address to listen on; `0.0.0.0` serves other machines too (plain `STT_SERVER_HOST`).",
    )
    port: int = Field(
        8129,
        ge=1,
        le=65535,
        validation_alias=_seed_alias("port", "PORT", "STT_SERVER_PORT"),
        description="HTTP and WebSocket port (plain `PORT` or `STT_SERVER_PORT` works too).",
    )
    ssl_certfile: Path | None = Field(
        None,
        description="PEM certificate (chain) to serve https and wss; `voxhub cert` makes one for the LAN.",
    )
    ssl_keyfile: Path | None = Field(None, description="PEM private key of `ssl_certfile`.")
    auth_token: SecretStr | None = Field(
        None,
        validation_alias=_seed_alias("auth_token", "STT_SERVER_AUTH_TOKEN"),
        description="Bearer token every route but `/health` requires; empty means no auth "
        "(plain `STT_SERVER_AUTH_TOKEN` works too).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=_seed_alias("cors_origins", "STT_SERVER_CORS_ORIGINS"),
        description="Origins allowed to call the API from a browser (`*` for any; plain "
        "`STT_SERVER_CORS_ORIGINS` works too).",
    )
    max_connections: int = Field(
        25,
        ge=1,
        validation_alias=_seed_alias("max_connections"),
        description="Concurrent WebSocket connections and in-flight turns (plain `MAX_CONNECTIONS` works too).",
    )
    connection_timeout_secs: float = Field(
        300.0,
        gt=0,
        validation_alias=_seed_alias("connection_timeout_secs", "CONNECTION_TIMEOUT"),
        description="A WebSocket silent this long (no message, no pong) is closed (plain `CONNECTION_TIMEOUT`).",
    )
    connect_reservation_secs: float = Field(
        10.0,
        gt=0,
        le=300,
        description="How long a slot reserved by seed 001's `POST /connect` waits for its WebSocket.",
    )
    ws_ping_interval_secs: float = Field(
        20.0,
        gt=0,
        validation_alias=_seed_alias("ws_ping_interval_secs", "WS_PING_INTERVAL"),
        description="How often the server pings WebSocket clients (plain `WS_PING_INTERVAL` works too).",
    )
    session_idle_secs: float = Field(3600.0, gt=0, description="Sessions unused this long are deleted.")
    cleanup_interval_secs: float = Field(
        60.0,
        gt=0,
        validation_alias=_seed_alias("cleanup_interval_secs", "CLEANUP_INTERVAL"),
        description="How often expired sessions are cleaned up (plain `CLEANUP_INTERVAL` works too).",
    )
    max_request_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Largest HTTP request body.")
    max_ws_message_bytes: int = Field(1024 * 1024, ge=1024, description="Largest WebSocket message.")
    http_read_timeout_secs: float = Field(
        10.0,
        gt=0,
        description="A request's headers must arrive within this; a body must keep up "
        "`http_min_body_bytes_per_sec` over each such window. Else 408 and the connection is closed.",
    )
    http_min_body_bytes_per_sec: float = Field(
        1024.0, ge=0, description="Slowest request body accepted, in bytes per second (see above)."
    )
    max_connections_per_client: int = Field(
        64, ge=1, description="Open HTTP and WebSocket connections one client address may hold; 429 beyond."
    )
    control_messages_per_sec: float = Field(
        20.0, gt=0, description="JSON control messages one connection may send per second (bursts of 2x)."
    )
    client_turns_per_minute: float = Field(
        120.0,
        ge=0,
        description="HTTP turns (conversation, one-shot, `/v1`) one client address may start per minute; "
        "over it, 429 with `Retry-After`. 0 turns the limit off.",
    )
    client_turn_burst: int = Field(
        30, ge=1, description="Turns one client address may start at once before that rate applies."
    )
    audio_realtime_factor: float = Field(
        4.0,
        gt=0,
        description="Audio one connection may send, in multiples of real time at its input rate (binary or "
        "base64 `audio_chunk`); the excess is dropped with one `rate_limited` error.",
    )
    audio_burst_secs: float = Field(
        60.0, gt=0, description="Seconds of audio a connection may send at once above that rate."
    )
    wyoming_enabled: bool = Field(
        True, description="Run the Wyoming server (Home Assistant's local voice protocol)."
    )
    wyoming_host: str | None = Field(None, description="Address of the Wyoming server; empty means `host`.")
    wyoming_port: int = Field(
        WYOMING_PORT,
        ge=1,
        le=65535,
        description="Port of the Wyoming server (every service); 10900 stays clear of the standard add-ons' "
        "10200 (Piper), 10300 (Whisper) and 10400 (openWakeWord).",
    )
    wyoming_stt_port: int | None = Field(
        None, ge=1, le=65535, description="Extra Wyoming port offering speech to text only (add-on layout)."
    )
    wyoming_tts_port: int | None = Field(
        None, ge=1, le=65535, description="Extra Wyoming port offering text to speech only (add-on layout)."
    )
    wyoming_wake_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Extra Wyoming port offering wake-word detection only (add-on layout).",
    )
    wyoming_zeroconf: bool = Field(
        False, description="Advertise the Wyoming server as `_wyoming._tcp.local.`."
    )
    wyoming_allow_remote: bool = Field(
        False,
        description="With `auth_token` set, still serve Wyoming (which has no token) on a non-loopback "
        "`wyoming_host`; off, Wyoming then listens on 127.0.0.1 only.",
    )
    wyoming_idle_timeout_secs: float = Field(
        60.0,
        gt=0,
        description="A Wyoming connection that sends no event (or reads none of ours) this long is closed.",
    )
    wyoming_max_connections_per_client: int = Field(
        16,
        ge=1,
        description="Open Wyoming connections one client address may hold, over all Wyoming ports.",
    )
    database_url: str | None = Field(
        None,
        description="Where sessions, history, profiles, notes, personas and generated tools live: empty means"
        " SQLite at `<data_dir>/voxhub.db`; `sqlite:///<path>`, or `postgresql://user:password@host/db` to"
        " share them between instances (docs/deploy.md).",
    )
    database_pool_size: int = Field(
        10, ge=1, le=1000, description="PostgreSQL: connections each instance keeps at most."
    )
    database_timeout_secs: float = Field(
        5.0,
        gt=0,
        description="PostgreSQL: how long a read or write is retried on a lost connection before it fails"
        " with `database_unavailable`.",
    )
    database_migrate_on_start: bool = Field(
        True,
        description="PostgreSQL: migrate the schema at start-up; off, start only on a current schema (run"
        " `voxhub db migrate` first). SQLite always migrates.",
    )

    # voice activity detection
    vad_engine: str = Field("silero", description="VAD engine: `silero`, `webrtc` or `combined`.")
    vad_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Silero speech probability that counts as speech."
    )
    vad_webrtc_aggressiveness: int = Field(
        2, ge=0, le=3, description="WebRTC VAD aggressiveness, 0 (lenient) to 3."
    )
    vad_combined_rule: Literal["and", "or"] = Field(
        "and", description="`combined` VAD: speech when both engines agree (`and`) or either says so (`or`)."
    )
    vad_start_secs: float = Field(
        0.2,
        ge=0.0,
        le=5.0,
        validation_alias=_seed_alias("vad_start_secs"),
        description="Speech needed before a segment starts (plain `VAD_START_SECS` works too).",
    )
    vad_stop_secs: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        validation_alias=_seed_alias("vad_stop_secs"),
        description="Silence that ends an utterance (plain `VAD_STOP_SECS` works too).",
    )
    vad_min_speech_secs: float = Field(
        0.25, ge=0.0, le=10.0, description="Shorter segments are dropped as noise."
    )
    vad_max_utterance_secs: float = Field(30.0, gt=0.0, le=600.0, description="Longer segments are cut here.")

    # wake word
    wake_engine: str = Field("micro", description="Wake-word engine: `micro`.")
    wake_words: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["okay_nabu", "hey_jarvis"],
        description="Wake words to listen for: `okay_nabu`, `hey_jarvis`, `hey_mycroft`, `alexa`.",
    )
    wake_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Detection probability; empty uses each model's own cutoff."
    )

    # speech to text
    stt_engine: str = Field("whisper", description="STT engine: `whisper` or `openai`.")
    stt_model: str = Field(
        "auto",
        description="Whisper model: `auto` (tiny.en for English, base otherwise), `tiny.en`, `base`, "
        "or a CTranslate2 model directory.",
    )
    stt_language: str = Field("en", description="Default language of speech (ISO 639-1).")
    stt_threads: int = Field(2, ge=1, le=64, description="CPU threads for Whisper.")
    stt_beam_size: int = Field(1, ge=1, le=10, description="Whisper beam size; 1 is greedy and fastest.")
    stt_workers: int = Field(
        0,
        ge=0,
        le=16,
        description="Whisper decodes at a time, shared by all sessions (finals first); 0: the cores divided "
        "by `stt_threads`.",
    )
    stt_window_secs: float = Field(
        30.0,
        ge=10.0,
        le=30.0,
        description="Whisper's audio window: an utterance that fits is decoded padded to this many seconds "
        "(10: about 4x faster, but a worse clean WER on our espeak set, see docs/benchmarks.md), longer ones "
        "on the full 30 s; a windowed decode that loops, runs on or stops short is redone on 30 s.",
    )

    # text to speech
    tts_engine: str = Field("hibari", description="TTS engine: `hibari`, `piper`, `espeak` or `openai`.")
    tts_voice: str | None = Field(None, description="Voice name; empty uses the engine's default voice.")
    tts_language: str = Field("en", description="Default language of synthesized speech.")
    tts_speed: float = Field(1.0, gt=0.25, le=4.0, description="Speaking rate, 1.0 is normal.")
    tts_piper_model: Path | None = Field(
        None, description="Piper voice `.onnx` file (its `.onnx.json` beside it)."
    )

    # language model
    llm_engine: str = Field(
        "auto",
        description="LLM engine: `auto` (the best model a local OpenAI-compatible server offers, else `local`;"
        " see docs/agent.md), `local` (llama.cpp in-process) or `openai`.",
    )
    llm_model: Path | None = Field(
        None, description="GGUF file for `local`; empty uses the bundled SmolLM2-135M."
    )
    llm_context_tokens: int = Field(
        8192,
        ge=512,
        description="Context window of `local`, shared by its slots: each conversation's prompt is fitted to"
        " one slot (`llm_context_tokens / llm_slots`, reported in `/v1/models`); with `openai`, the"
        " budget prompts are fitted to.",
    )
    llm_slots: int = Field(4, ge=1, le=64, description="Parallel `local` sessions before requests queue.")
    llm_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="CPU threads for `local`; 1 holds its speed while STT and TTS share the CPU.",
    )
    llm_max_tokens: int = Field(256, ge=1, description="Most tokens one reply may have.")
    llm_temperature: float = Field(
        0.0,
        ge=0.0,
        le=2.0,
        description="Sampling temperature; 0 (greedy) keeps the small default model on track.",
    )
    system_prompt: str = Field(
        "You are a helpful voice assistant. Answer in one or two short sentences.",
        description="The prompt without the assistant brain; with it, instructions added after the persona's"
        " once changed from this default (a session's own `system_prompt` replaces both).",
    )
    greeting_enabled: bool = Field(
        True, description="Say the persona's greeting when a new conversation starts on the native socket."
    )
    agent_offline_first: bool = Field(
        True,
        description="Commands the offline agent understands (devices, timers, time) never reach the LLM.",
    )
    emotion_enabled: bool = Field(
        True,
        description="Recognize the emotion of each user turn (an `emotion` event, and a hint to the LLM).",
    )

    # OpenAI-compatible services (engines named `openai`)
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible API, e.g. `http://localhost:11434/v1`."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=_seed_alias("openai_api_key"),
        description="API key for `openai_base_url` (plain `OPENAI_API_KEY` works too).",
    )
    openai_llm_model: str = Field(
        "gpt-4o-mini",
        validation_alias=_seed_alias("openai_llm_model", "OPENAI_MODEL"),
        description="Chat model for the `openai` LLM engine (plain `OPENAI_MODEL` works too).",
    )
    openai_stt_model: str = Field("whisper-1", description="Model for the `openai` STT engine.")
    openai_tts_model: str = Field("tts-1", description="Model for the `openai` TTS engine.")
    openai_tts_voice: str = Field("alloy", description="Default voice for the `openai` TTS engine.")
    openai_timeout_secs: float = Field(
        30.0, gt=0.0, description="Request timeout for OpenAI-compatible services."
    )
    openai_connect_timeout_secs: float = Field(
        2.0,
        gt=0.0,
        description="Connect timeout for OpenAI-compatible services: past it a turn is answered offline.",
    )
    openai_repetition_guard: bool = Field(
        False,
        description="Cut an `openai` LLM answer that starts repeating itself, as `local` always does (for small"
        " models behind Ollama or llama.cpp); it ends with finish reason `length`.",
    )

    # `llm_engine: auto` and the fallback chain
    llm_auto_servers: dict[str, str] = Field(
        default_factory=lambda: {
            "Ollama": "http://127.0.0.1:11434/v1",
            "llama.cpp": "http://127.0.0.1:8080/v1",
            "LM Studio": "http://127.0.0.1:1234/v1",
            "vLLM": "http://127.0.0.1:8000/v1",
        },
        description="OpenAI-compatible servers `auto` looks for at start-up, name → base URL (JSON in the "
        "environment); `{}` looks for none.",
    )
    llm_auto_timeout_secs: float = Field(
        0.8,
        gt=0.0,
        le=10.0,
        description="How long `auto` waits for all of those servers together (they are asked at once).",
    )
    llm_auto_max_params_b: float = Field(
        14.0,
        gt=0.0,
        description="`auto` prefers the largest model up to this many billion parameters (larger ones are "
        "too slow to speak with on most home machines) and takes a larger one only if nothing else is served.",
    )
    llm_fallbacks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["local"],
        description="LLMs that answer, in order, when the one before fails before its first word (refused, "
        "HTTP 5xx, timeout): `local`, `openai`, `auto`, or `model@base_url` of any OpenAI-compatible server.",
    )
    llm_fallback_cooldown_secs: float = Field(
        30.0,
        ge=0.0,
        description="A failed LLM of the chain is skipped this long, then tried again.",
    )

    # Home Assistant (device tools and the offline agent)
    homeassistant_url: str | None = Field(
        None,
        description="Base URL of Home Assistant, e.g. `http://homeassistant.local:8123`; empty means none.",
    )
    homeassistant_token: SecretStr | None = Field(
        None, description="Long-lived access token for `homeassistant_url` (never logged)."
    )
    homeassistant_timeout_secs: float = Field(
        10.0, gt=0.0, description="Request timeout for Home Assistant's REST API."
    )

    # tools the LLM may call
    tools_max_calls_per_turn: int = Field(
        4, ge=1, le=64, description="Most tool calls one turn may make; calls past it get an error result."
    )
    tools_timeout_secs: float = Field(10.0, gt=0.0, le=600.0, description="Time limit of one tool call.")
    tools_functions_file: Path | None = Field(
        None,
        description="An Extended OpenAI Conversation functions YAML file (template, rest, native, script) "
        "to import as tools.",
    )
    mcp_servers: list[McpServerSetting] = Field(
        default_factory=list,
        description='MCP servers whose tools are offered, as JSON: `[{"name": "files", "command": "npx", '
        '"args": [...], "env": {...}}, {"name": "web", "url": "http://host/mcp", "headers": {...}}]`; '
        "`tool_prefix` renames their tools.",
    )

    # limits
    max_audio_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="Largest audio payload accepted.")
    max_audio_secs: float = Field(
        600.0,
        gt=0,
        le=86_400,
        description="Longest audio file accepted, in decoded seconds; a longer upload is refused with 413, "
        "from its declared length or as soon as decoding passes the limit (a small compressed file can hold "
        "hours of audio).",
    )

    # AutoFunction: tools the assistant writes for itself, run in a sandbox
    autofunction_allowed_modules: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Modules generated tools may import besides the safe standard ones (math, json, re, ...); "
        "comma-separated, admin only.",
    )
    autofunction_cpu_secs: int = Field(2, ge=1, le=300, description="CPU seconds one sandboxed call may use.")
    autofunction_memory_mb: int = Field(
        256, ge=64, le=65536, description="Address space one sandboxed call may use, in MiB."
    )
    autofunction_timeout_secs: float = Field(
        5.0, gt=0.0, le=600.0, description="Wall-clock limit of one sandboxed call, start-up included."
    )
    autofunction_max_processes: int = Field(
        1, ge=1, le=64, description="Processes a sandbox may have, itself included; 1 forbids forking."
    )
    autofunction_max_open_files: int = Field(
        16, ge=4, le=1024, description="File descriptors a sandbox may hold open."
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
        "wake_words", "cors_origins", "autofunction_allowed_modules", "llm_fallbacks", mode="before"
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
