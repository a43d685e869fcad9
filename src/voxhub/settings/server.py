"""Where voxhub keeps its state and logs, and how it serves: HTTP and WebSocket, their limits, Wyoming."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import NoDecode

from voxhub.settings.common import WYOMING_PORT, default_data_dir, seed_alias


class GeneralFields(BaseModel):
    """Where models, history and state live, and the log."""

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where models, history and state live."
    )
    models_dir: Path | None = Field(
        None, description="Where `voxhub models install` puts models; empty means `<data_dir>/models`."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        validation_alias=seed_alias("log_level"),
        description="Log level (plain `LOG_LEVEL` works too).",
    )
    log_format: Literal["auto", "text", "json"] = Field(
        "auto",
        validation_alias=seed_alias("log_format"),
        description="`text` (readable lines), `json` (one object a line), or `auto`: text on a terminal, "
        "JSON otherwise (plain `LOG_FORMAT` works too).",
    )


class ServerFields(BaseModel):
    """The HTTP and WebSocket server: address, auth, connections and what one client may do."""

    host: str = Field(
        "127.0.0.1",
        validation_alias=seed_alias("host", "STT_SERVER_HOST"),
        description="Address to listen on; `0.0.0.0` serves other machines too (plain `STT_SERVER_HOST`).",
    )
    port: int = Field(
        8129,
        ge=1,
        le=65535,
        validation_alias=seed_alias("port", "PORT", "STT_SERVER_PORT"),
        description="HTTP and WebSocket port (plain `PORT` or `STT_SERVER_PORT` works too).",
    )
    ssl_certfile: Path | None = Field(
        None,
        description="PEM certificate (chain) to serve https and wss; `voxhub cert` makes one for the LAN.",
    )
    ssl_keyfile: Path | None = Field(None, description="PEM private key of `ssl_certfile`.")
    auth_token: SecretStr | None = Field(
        None,
        validation_alias=seed_alias("auth_token", "STT_SERVER_AUTH_TOKEN"),
        description="Bearer token every route but `/health` requires; empty means no auth "
        "(plain `STT_SERVER_AUTH_TOKEN` works too).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=seed_alias("cors_origins", "STT_SERVER_CORS_ORIGINS"),
        description="Origins allowed to call the API from a browser (`*` for any; plain "
        "`STT_SERVER_CORS_ORIGINS` works too).",
    )
    max_connections: int = Field(
        25,
        ge=1,
        validation_alias=seed_alias("max_connections"),
        description="Concurrent WebSocket connections and in-flight turns (plain `MAX_CONNECTIONS` works too).",
    )
    connection_timeout_secs: float = Field(
        300.0,
        gt=0,
        validation_alias=seed_alias("connection_timeout_secs", "CONNECTION_TIMEOUT"),
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
        validation_alias=seed_alias("ws_ping_interval_secs", "WS_PING_INTERVAL"),
        description="How often the server pings WebSocket clients (plain `WS_PING_INTERVAL` works too).",
    )
    session_idle_secs: float = Field(3600.0, gt=0, description="Sessions unused this long are deleted.")
    cleanup_interval_secs: float = Field(
        60.0,
        gt=0,
        validation_alias=seed_alias("cleanup_interval_secs", "CLEANUP_INTERVAL"),
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


class WyomingFields(BaseModel):
    """The Wyoming server (Home Assistant's local voice protocol) and its per-service ports."""

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


class DatabaseFields(BaseModel):
    """Where sessions and history are stored."""

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


class ClusterFields(BaseModel):
    """Many instances sharing live state through Redis: limits, which instance holds a session, events."""

    redis_url: str | None = Field(
        None,
        description="`redis://host:port/db` shared by every instance: cluster-wide connection cap and turn "
        "rates, the live-session registry and the event bus (docs/deploy.md). Empty: one instance, local "
        "limits only. While Redis is unreachable each instance falls back to its local limits.",
    )
    cluster_max_connections: int = Field(
        0,
        ge=0,
        description="WebSocket connections all instances together may hold (with `redis_url`); past it, "
        "close code 1013. 0: no cluster-wide cap (each instance still has `max_connections`).",
    )
    cluster_lease_secs: float = Field(
        10.0,
        ge=1.0,
        le=300.0,
        description="How long a connection slot or a session's registry entry outlives its instance: each "
        "instance renews its leases every third of this, so a crashed one frees them within it.",
    )
    cluster_events_maxlen: int = Field(
        10_000,
        ge=100,
        description="Events kept in the Redis stream `<prefix>events` (trimmed approximately, MAXLEN ~).",
    )
    cluster_key_prefix: str = Field(
        "voxhub:", description="Prefix of every Redis key, so several clusters can share one Redis."
    )
    instance_id: str | None = Field(
        None, description="This instance's name in the cluster registry; empty: `<hostname>-<pid>`."
    )
