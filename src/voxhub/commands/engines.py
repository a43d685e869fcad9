"""`voxhub engines`: every engine, whether it loads here, its model, languages and load time."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from voxhub.commands.common import ConfigOption, read_settings, run
from voxhub.config import Settings
from voxhub.console import (
    EngineRow,
    as_json,
    engine_progress,
    engine_table,
    stdout,
)
from voxhub.engines.loader import load_engine
from voxhub.engines.registry import ENGINES, STAGES, setting_for
from voxhub.errors import VoxhubError


def engines(
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON, with every reason whole.")] = False,
) -> None:
    """List every engine: whether it loads here, its model, languages and load time."""
    settings = read_settings(config)
    rows = run(_engine_rows(settings))
    if json_output:
        print(as_json(rows))
        return
    stdout.print(engine_table(rows))
    stdout.print("[dim]* = the configured engine for its stage; --json for the full reasons[/]")


async def _engine_rows(settings: Settings) -> list[EngineRow]:
    rows = []
    with engine_progress() as progress:
        for stage in STAGES:
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
                progress(stage, name, True)
                rows.append(EngineRow(stage, name, chosen, True, *_describe(engine), load_secs=load_secs))
                await engine.aclose()
    return rows


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
