"""The assistant: its language model, OpenAI-compatible services, Home Assistant and the tools it may call."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import NoDecode

from voxhub.settings.common import seed_alias


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


class LlmFields(BaseModel):
    """The language model and how the assistant answers."""

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


class OpenAIFields(BaseModel):
    """OpenAI-compatible services (engines named `openai`)."""

    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible API, e.g. `http://localhost:11434/v1`."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=seed_alias("openai_api_key"),
        description="API key for `openai_base_url` (plain `OPENAI_API_KEY` works too).",
    )
    openai_llm_model: str = Field(
        "gpt-4o-mini",
        validation_alias=seed_alias("openai_llm_model", "OPENAI_MODEL"),
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


class HomeAssistantFields(BaseModel):
    """Home Assistant (device tools and the offline agent)."""

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
    homeassistant_timer_notify: str | None = Field(
        None,
        description="A Home Assistant service that also rings each finished timer, e.g. "
        "`notify.mobile_app_phone` or `persistent_notification.create`; empty means none (timers then ring "
        "only on the session's open connections).",
        pattern=r"^([a-z0-9_]+\.[a-z0-9_]+)?$",
    )


class ToolFields(BaseModel):
    """Tools the LLM may call."""

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
