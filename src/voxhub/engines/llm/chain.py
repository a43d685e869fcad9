"""Build the LLM a server answers with: `llm_engine` (`auto` resolved by probing) with `llm_fallbacks`
behind it. One member alone is returned as itself; several become a `FallbackLlm`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voxhub.config import env_name
from voxhub.engines.llm.base import LlmEngine
from voxhub.engines.llm.fallback import FallbackLlm, Member
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.engines.llm.probe import FoundModel, best_model, probe_servers
from voxhub.errors import ConfigError

if TYPE_CHECKING:
    from voxhub.config import Settings

logger = logging.getLogger(__name__)

AUTO = "auto"
LOCAL = "local"
_FALLBACK_CHOICES = "`local`, `openai`, `auto` or `model@base_url`"


@dataclass(frozen=True, slots=True)
class _Planned:
    key: str  # the same LLM twice in the chain is one member
    label: str
    load: Callable[[], Awaitable[LlmEngine]]


class _Probe:
    """The servers `auto` looks for, asked once however often `auto` appears in the chain."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._best: FoundModel | None = None
        self._done = False

    async def best(self) -> FoundModel | None:
        if not self._done:
            settings = self._settings
            started = time.perf_counter()
            found = await probe_servers(settings.llm_auto_servers, settings.llm_auto_timeout_secs)
            self._best = best_model(found, settings.llm_auto_max_params_b)
            self._done = True
            logger.info(
                "llm_engine auto: %s (asked %d servers in %.2f s)",
                f"{self._best.label} answers" if self._best else "no LLM server found on this machine",
                len(settings.llm_auto_servers),
                time.perf_counter() - started,
                extra={"llm": self._best.label if self._best else None, "models_found": len(found)},
            )
        return self._best


async def load_llm(name: str, settings: Settings) -> LlmEngine:
    """The LLM `name` (a registered engine or `auto`) with the fallbacks behind it, first member loaded.

    `auto` is the best model a server on this machine offers (see `voxhub.engines.llm.probe`), else the
    embedded model. Fallbacks load when first needed; one that cannot be planned (`openai` with no base
    URL, `auto` finding nothing) is left out with a warning.
    """
    probe = _Probe(settings)
    first = await _plan(name, settings, probe)
    assert first is not None  # the first always resolves: `auto` falls back to `local`
    planned = [first]
    for spec in settings.llm_fallbacks:
        try:
            member = await _plan(spec.strip(), settings, probe, fallback=True)
        except ConfigError as exc:
            logger.warning("llm_fallbacks: %s is left out: %s", spec, exc.message)
            continue
        if member is not None and member.key not in {known.key for known in planned}:
            planned.append(member)
    engine = await first.load()
    if len(planned) == 1:
        return engine
    members = [Member(first.label, engine=engine)]
    members += [Member(plan.label, load=plan.load) for plan in planned[1:]]
    logger.info("LLM chain: %s", " → ".join(member.label for member in members))
    return FallbackLlm(members, name=name, cooldown_secs=settings.llm_fallback_cooldown_secs)


async def _plan(spec: str, settings: Settings, probe: _Probe, *, fallback: bool = False) -> _Planned | None:
    if spec == AUTO:
        found = await probe.best()
        if found is not None:
            return _server(found.model, found.base_url, found.label, settings, service=found.server)
        return None if fallback else _local(settings)
    if spec == LOCAL:
        return _local(settings)
    if spec == "openai":
        if fallback and not settings.openai_base_url:
            raise ConfigError(f"openai_base_url ({env_name('openai_base_url')}) is not set")

        async def openai_engine() -> LlmEngine:
            return OpenAiLlm.from_settings(settings)

        label = f"{settings.openai_llm_model} (OpenAI-compatible API)"
        return _Planned(f"{settings.openai_base_url}#{settings.openai_llm_model}", label, openai_engine)
    model, at, base_url = spec.partition("@")
    if fallback and at and model and base_url.startswith(("http://", "https://")):
        return _server(
            model, base_url, f"{model} (fallback server)", settings, service="a fallback LLM server"
        )
    if fallback:
        raise ConfigError(f"{spec!r} is not one of {_FALLBACK_CHOICES}")
    from voxhub.engines.registry import engine_class  # the registry names this module's loader

    cls = engine_class("llm", spec)

    async def registered() -> LlmEngine:
        engine: LlmEngine = cls.from_settings(settings)
        await engine.warm_up()
        return engine

    return _Planned(spec, spec, registered)


def _local(settings: Settings) -> _Planned:
    from voxhub.engines.llm.local import LocalLlm  # llama.cpp loads only when the embedded model is used

    async def local() -> LlmEngine:
        # llama.cpp reads the model off the event loop: a fallback may load mid-conversation.
        engine = await asyncio.to_thread(LocalLlm.from_settings, settings)
        await engine.warm_up()
        return engine

    model = settings.llm_model.stem if settings.llm_model else "SmolLM2-135M"
    return _Planned(LOCAL, f"{model} (embedded)", local)


def _server(model: str, base_url: str, label: str, settings: Settings, *, service: str) -> _Planned:
    async def server() -> LlmEngine:
        return OpenAiLlm(
            base_url=base_url,
            api_key=None,
            model=model,
            timeout_secs=settings.openai_timeout_secs,
            connect_timeout_secs=settings.openai_connect_timeout_secs,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            context_tokens=settings.llm_context_tokens,
            service=service,
            # No retry and a fresh connection each request: a member that fails gives way at once.
            loopback=True,
            repetition_guard=settings.openai_repetition_guard,
        )

    return _Planned(f"{base_url.rstrip('/')}#{model}", label, server)
