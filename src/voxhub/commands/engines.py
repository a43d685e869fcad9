"""`voxhub engines`: every engine, whether it loads here, its model, languages and load time; for the LLMs
their capabilities (tools, context size, as `/v1/models` gives them) and the configured LLM chain."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from voxhub.commands.common import ConfigOption, read_settings, run
from voxhub.config import Settings
from voxhub.console import (
    EngineRow,
    as_json,
    chain_table,
    engine_progress,
    engine_table,
    stdout,
)
from voxhub.engines.llm.base import LlmCapabilities
from voxhub.engines.llm.fallback import FallbackLlm
from voxhub.engines.loader import load_engine
from voxhub.engines.registry import ENGINES, STAGES, Stage, setting_for
from voxhub.errors import VoxhubError


def engines(
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON, with every reason whole.")] = False,
    stage: Annotated[
        str | None, typer.Option("--stage", help=f"Only this stage's engines: {', '.join(STAGES)}.")
    ] = None,
) -> None:
    """List every engine: whether it loads here, its model, languages and load time; the LLMs' tools and
    context size, and the LLM chain (which answers first, which are its fallbacks)."""
    settings = read_settings(config)
    if stage is not None and stage not in STAGES:
        raise typer.BadParameter(f"{stage!r} is not one of {', '.join(STAGES)}", param_hint="--stage")
    rows = run(_engine_rows(settings, [stage] if stage else list(STAGES)))
    if json_output:
        print(as_json(rows))
        return
    stdout.print(engine_table(rows))
    stdout.print("[dim]* = the configured engine for its stage; --json for the full reasons[/]")
    chain = next((row.chain for row in rows if row.stage == "llm" and row.configured and row.chain), None)
    if chain:
        stdout.print(
            f"LLM chain ({setting_for('llm')}={settings.llm_engine}, then llm_fallbacks): the first answers;"
            " each fallback answers when those before it fail before their first word."
        )
        stdout.print(chain_table(chain))


async def _engine_rows(settings: Settings, stages: list[Stage]) -> list[EngineRow]:
    rows = []
    with engine_progress() as progress:
        for stage in stages:
            for name in ENGINES[stage]:
                chosen = getattr(settings, setting_for(stage)) == name
                progress(stage, name, False)
                started = time.perf_counter()
                try:
                    engine = await load_engine(stage, name, settings)
                except VoxhubError as exc:
                    progress(stage, name, True)
                    rows.append(EngineRow(stage, name, chosen, False, reason=exc.message))
                    continue
                load_secs = round(time.perf_counter() - started, 3)
                llm: dict[str, Any] = {}
                if stage == "llm":
                    llm = _llm_capabilities(engine.capabilities)
                    if chosen:
                        llm["chain"] = await llm_chain_rows(engine)
                progress(stage, name, True)
                rows.append(
                    EngineRow(stage, name, chosen, True, *_describe(engine), load_secs=load_secs, **llm)
                )
                await engine.aclose()
    return rows


async def llm_chain_rows(engine: Any) -> list[dict[str, Any]]:
    """The LLMs in the order a turn tries them, each loaded (as a turn that reached it would load it):
    `llm`, `role` (first, fallback), `ready`, `model`, `tools`, `context_tokens`, and `reason` it cannot."""
    if not isinstance(engine, FallbackLlm):
        label = f"{engine.capabilities.model} ({'embedded' if engine.name == 'local' else engine.name})"
        return [_member(label, "first", engine.capabilities)]
    rows = []
    for index, member in enumerate(engine.members):
        role = "first" if index == 0 else "fallback"
        try:
            loaded = await engine.engine_of(member)
        except VoxhubError as exc:
            rows.append(_member(member.label, role, None, exc.message))
            continue
        rows.append(_member(member.label, role, loaded.capabilities))
    return rows


def _member(label: str, role: str, capabilities: LlmCapabilities | None, reason: str = "") -> dict[str, Any]:
    if capabilities is None:
        found: dict[str, Any] = {"model": "", "tools": None, "context_tokens": None}
    else:
        found = {"model": capabilities.model, **_llm_capabilities(capabilities)}
    return {"llm": label, "role": role, "ready": capabilities is not None, **found, "reason": reason}


def _llm_capabilities(capabilities: LlmCapabilities) -> dict[str, Any]:
    return {"tools": capabilities.tool_calling, "context_tokens": capabilities.context_tokens}


def _describe(engine: Any) -> tuple[str, str, str]:
    capabilities = engine.capabilities
    listed = list(getattr(capabilities, "wake_words", None) or getattr(capabilities, "languages", None) or [])
    if not listed:
        shown = "any language"
    elif len(listed) > 8:
        shown = f"{len(listed)} languages: {', '.join(listed[:6])}, …"
    else:
        shown = ", ".join(listed)
    rates = getattr(capabilities, "sample_rates_hz", None) or (getattr(capabilities, "sample_rate_hz", 0),)
    rate = ", ".join(f"{rate / 1000:g}" for rate in rates if rate)
    return capabilities.model, shown, f"{rate} kHz" if rate else ""
