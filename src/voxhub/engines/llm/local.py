"""The `local` LLM engine: llama.cpp's server inside this process (xllamacpp), spoken to over loopback."""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import xllamacpp

from voxhub.engines.llm.base import ChatMessage, LlmChunk, LlmUsage, ToolSpec
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.engines.llm.tool_grammar import forces_call, parse_tool_call, tool_call_prompt, tool_call_schema
from voxhub.errors import ModelError
from voxhub.models import store

if TYPE_CHECKING:
    from voxhub.config import Settings

BUNDLED_MODEL = "smollm2"
_LOOPBACK = "127.0.0.1"
_LOG_ERRORS = 1  # llama.cpp verbosity: 1 errors, 2 warnings (routine cache notices), 3 info, 4 debug
# Reuse cached chunks of at least this many tokens by shifting them, so a history trimmed at the front is
# not read again in full.
_CACHE_REUSE_TOKENS = 256
_PROMPT_CACHE_RAM_MIB = 1024  # llama.cpp's default of 8 GiB is too much for a small box
# Decoding for a tiny model, sent with every request (llama.cpp's own fields; see benchmarks/answers.py for
# the comparison). DRY penalizes extending a sequence already said, which is how a small model loops
# ("a person who is a person who is..."); a light frequency penalty stops digit runs ("7,987,987,...").
# Plain repeat_penalty was measured too: it also stops loops, but pushes facts off ("716 planets").
LOCAL_SAMPLING: dict[str, float | int] = {
    "dry_multiplier": 0.8,
    "dry_base": 1.75,
    "dry_allowed_length": 3,
    "dry_penalty_last_n": 512,
    "frequency_penalty": 0.2,
}


class LocalLlm:
    """A GGUF model served by llama.cpp in-process, with a random key on 127.0.0.1 only.

    Chat goes through `OpenAiLlm` pointed at that loopback server, so both engines share one code path.
    """

    name = "local"

    def __init__(self, server: Any, api_key: str, model_path: Path, settings: Settings) -> None:
        self._server: Any = server  # an xllamacpp.Server; it serves until the last reference is dropped
        self._base_url = f"{server.listening_address}/v1"
        self._api_key = api_key
        self._chat = OpenAiLlm(
            base_url=self._base_url,
            api_key=api_key,
            model=model_path.stem,
            # Generation on a slow CPU may take long before the first token when all slots are busy.
            timeout_secs=max(settings.openai_timeout_secs, 120.0),
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            context_tokens=settings.llm_context_tokens // settings.llm_slots,
            tool_calling=_template_supports_tools(self._base_url.removesuffix("/v1"), api_key),
            service="the local llama.cpp server",
            loopback=True,
            sampling=LOCAL_SAMPLING,
            repetition_guard=True,  # a 135M model loops; the guard stops what the sampling lets through
        )
        self.capabilities = self._chat.capabilities
        self._system_prompt = settings.system_prompt
        # For tool calls decoded under a grammar: no penalties on repeated JSON keys, no guard on the text.
        self._calls = OpenAiLlm(
            base_url=self._base_url,
            api_key=api_key,
            model=model_path.stem,
            timeout_secs=max(settings.openai_timeout_secs, 120.0),
            max_tokens=settings.llm_max_tokens,
            temperature=0.0,
            context_tokens=self.capabilities.context_tokens,
            service="the local llama.cpp server",
            loopback=True,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        model_path = settings.llm_model or store.wheel_file(BUNDLED_MODEL, settings.models_root)
        api_key = secrets.token_urlsafe(32)
        try:
            server = xllamacpp.Server(_server_params(model_path, api_key, settings))
        except RuntimeError as exc:
            raise ModelError(
                f"llama.cpp could not load {model_path} ({exc}); is it a GGUF model file?",
                details={"path": str(model_path)},
            ) from None
        return cls(server, api_key, model_path, settings)

    @property
    def base_url(self) -> str:
        """The loopback server's OpenAI-compatible base URL (it requires `api_key`)."""
        return self._base_url

    @property
    def api_key(self) -> str:
        return self._api_key

    async def warm_up(self) -> None:
        """Read the default system prompt once, so the first turn finds it in the prompt cache."""
        async for _ in self._chat.chat([ChatMessage("system", self._system_prompt)], max_tokens=1):
            pass

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> AsyncIterator[LlmChunk]:
        """Stream the reply (see `OpenAiLlm.chat`). A request that forces a tool call, to a model whose chat
        template knows tools, is decoded under the grammar of a valid call (`tool_call`)."""
        if self.capabilities.tool_calling and forces_call(tools, tool_choice):
            return self.tool_call(messages, tools, tool_choice, max_tokens=max_tokens)
        return self._chat.chat(
            messages, tools=tools, tool_choice=tool_choice, max_tokens=max_tokens, temperature=temperature
        )

    async def tool_call(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec],
        tool_choice: str | None = None,
        *,
        max_tokens: int | None = None,
    ) -> AsyncIterator[LlmChunk]:
        """One call of one of `tools` (the named one if `tool_choice` names it), decoded under the JSON
        schema of a valid call: llama.cpp samples nothing else (see `voxhub.engines.llm.tool_grammar`)."""
        asked = [*messages, ChatMessage("system", tool_call_prompt(tools, tool_choice))]
        schema = {"json_schema": tool_call_schema(tools, tool_choice)}
        text: list[str] = []
        usage: LlmUsage | None = None
        async for chunk in self._calls.chat(asked, max_tokens=max_tokens, temperature=0.0, extra=schema):
            text.append(chunk.text)
            usage = chunk.usage or usage
        call = parse_tool_call("".join(text), tools)
        yield LlmChunk(tool_calls=(call,), finish_reason="tool_calls", usage=usage)

    async def aclose(self) -> None:
        """Stop the server: dropping its last reference waits for its loop to end, so off the event loop."""
        await self._chat.aclose()
        await self._calls.aclose()
        holder = [self._server]
        self._server = None
        await asyncio.to_thread(holder.clear)


def _server_params(model_path: Path, api_key: str, settings: Settings) -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    # Locked down: loopback only, random port, random key, no browser access, nothing fetched from the net.
    params.hostnames = [_LOOPBACK]
    params.port = 0
    params.api_keys = [api_key]
    params.cors_origins = ""
    params.cors_credentials = False
    params.ui = False
    params.endpoint_slots = False
    params.endpoint_metrics = False
    params.offline = True
    params.n_parallel = settings.llm_slots
    params.n_ctx = settings.llm_context_tokens
    params.cpuparams.n_threads = settings.llm_threads
    params.cpuparams_batch.n_threads = settings.llm_threads
    params.use_jinja = True  # tool calls are parsed from the model's own chat template
    # A slot keeps the previous prompt, so the system prompt and history are not re-read each turn; idle
    # slots park theirs in RAM, and each request goes to the slot whose cache matches it best.
    params.cache_prompt = True
    params.cache_idle_slots = True
    params.n_cache_reuse = _CACHE_REUSE_TOKENS
    params.cache_ram_mib = _PROMPT_CACHE_RAM_MIB
    params.verbosity = _LOG_ERRORS
    params.show_timings = False
    return params


def _template_supports_tools(root_url: str, api_key: str) -> bool:
    """Whether the model's chat template knows tools, as the loaded server reports it."""
    request = urllib.request.Request(f"{root_url}/props", headers={"Authorization": f"Bearer {api_key}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback, answered from memory
        props = json.load(response)
    caps = props.get("chat_template_caps", {})
    return bool(caps.get("supports_tool_calls") and caps.get("supports_tools"))
