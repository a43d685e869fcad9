"""What the `openai` engines share: a client built from settings, and SDK failures turned into EngineError."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import openai

from voxhub.config import env_name
from voxhub.errors import ConfigError, ContextOverflowError, EngineError, VoxhubError

if TYPE_CHECKING:
    from voxhub.config import Settings

# Sent when no key is configured: local servers (Ollama, llama.cpp, vLLM) ignore it, and it stops the SDK
# from picking up an unrelated OPENAI_API_KEY from the environment.
_NO_KEY = "none"
_MESSAGE_CHARS = 300
_ADDRESS = re.compile(
    r"\b(?:https?|wss?)://[^\s'\"<>]+|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\blocalhost:\d+\b"
)
logger = logging.getLogger(__name__)


def require_base_url(settings: Settings) -> str:
    """`openai_base_url`, or ConfigError saying how to set it."""
    if not settings.openai_base_url:
        raise ConfigError(
            f"openai_base_url ({env_name('openai_base_url')}) is not set; the `openai` engines need "
            "the base URL of an OpenAI-compatible API, e.g. https://api.openai.com/v1 or http://localhost:11434/v1",
            details={"setting": "openai_base_url"},
        )
    return settings.openai_base_url


def api_key_of(settings: Settings) -> str | None:
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else None


def make_client(
    base_url: str,
    api_key: str | None,
    timeout_secs: float,
    *,
    loopback: bool = False,
    connect_timeout_secs: float = 2.0,
) -> openai.AsyncOpenAI:
    """An SDK client that gives up quickly: a voice turn is better served by an error than by long retries."""
    timeout = openai.Timeout(timeout_secs, connect=min(connect_timeout_secs, timeout_secs))
    if loopback:
        # llama.cpp's HTTP server drops a connection after five requests without saying so, and the next
        # request on it fails; over loopback a fresh connection per request costs nothing and cannot be stale.
        return openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or _NO_KEY,
            timeout=timeout,
            max_retries=0,
            default_headers={"Connection": "close"},
        )
    # One retry (after about half a second) covers a kept-alive connection the server dropped as it was reused.
    return openai.AsyncOpenAI(base_url=base_url, api_key=api_key or _NO_KEY, timeout=timeout, max_retries=1)


@contextmanager
def service_errors(service: str, base_url: str, api_key: str | None) -> Iterator[None]:
    """Turn what the SDK raises inside the block into EngineError naming `service`, with the key scrubbed.

    The error reaches clients, so it never names the service's address (a loopback port, a LAN host);
    the log line for the operator does.
    """
    try:
        yield
    except openai.OpenAIError as exc:
        error = _engine_error(exc, service, api_key)
        logger.warning("%s at %s failed: %s", service, base_url, error.message, extra={"error": error.code})
        raise error from None


# How servers say a prompt is too long: llama.cpp ("request (2241 tokens) exceeds the available context size
# (2048 tokens)"), OpenAI and vLLM ("maximum context length is 8192 tokens"), Ollama ("context length").
_OVERFLOW = re.compile(r"exceeds the available context size|maximum context length|context_length_exceeded")
_LLAMA_SIZES = re.compile(r"\((\d+) tokens\) exceeds the available context size \((\d+) tokens\)")


def _overflow(said: str) -> ContextOverflowError:
    """A client error, not an engine failure: what was sent is longer than the model can read."""
    details: dict[str, int] = {}
    sizes = _LLAMA_SIZES.search(said)
    if sizes:
        details = {"prompt_tokens": int(sizes[1]), "limit_tokens": int(sizes[2])}
    limit = f" ({details['prompt_tokens']} tokens; it reads {details['limit_tokens']})" if details else ""
    return ContextOverflowError(
        f"the text is longer than the language model can read at once{limit}: send less", details=details
    )


def _engine_error(exc: openai.OpenAIError, service: str, api_key: str | None) -> VoxhubError:
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        hint = ""
        if status in (401, 403):
            hint = f"; check openai_api_key ({env_name('openai_api_key')})"
        elif status == 404:
            hint = "; check the model name and the base URL"
        said = _message_of(exc)
        # The SDK's stand-in when the body has no message ("Error code: 404") repeats the status.
        said = "" if said.startswith("Error code:") else f": {_scrub(said, api_key)}"
        if status == 400 and _OVERFLOW.search(said):
            return _overflow(said)
        return EngineError(
            f"{service} answered HTTP {status}{said}{hint}", details={"service": service, "status": status}
        )
    if isinstance(exc, openai.APITimeoutError):
        return EngineError(f"{service} did not answer in time", details={"service": service})
    if isinstance(exc, openai.APIConnectionError):
        cause = _scrub(str(exc.__cause__ or exc), api_key)
        return EngineError(f"connection to {service} failed: {cause}", details={"service": service})
    return EngineError(f"{service} failed: {_scrub(str(exc), api_key)}", details={"service": service})


def _message_of(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return exc.message


def _scrub(text: str, api_key: str | None) -> str:
    """The upstream's words without the key or any address they quote."""
    if api_key:
        text = text.replace(api_key, "***")
    return _ADDRESS.sub("<address>", text)[:_MESSAGE_CHARS]
