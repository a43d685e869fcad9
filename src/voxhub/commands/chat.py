"""`voxhub chat`: the configured LLM in the terminal, replies streamed as they are written."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from voxhub.commands.common import ConfigOption, load_engines, read_settings, run
from voxhub.config import Settings
from voxhub.console import (
    stderr,
)
from voxhub.engines.llm.base import ChatMessage, LlmEngine


def chat(
    once: Annotated[str | None, typer.Option("--once", help="Answer this one question and exit.")] = None,
    engine: Annotated[str | None, typer.Option(help="LLM engine (default: llm_engine setting).")] = None,
    system: Annotated[
        str | None, typer.Option(help="System prompt (default: system_prompt setting).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Talk to the configured LLM in the terminal, with replies streamed as they are written."""
    settings = read_settings(config, llm_engine=engine, system_prompt=system)
    run(_chat(settings, once))


async def _chat(settings: Settings, once: str | None) -> None:
    loaded = await load_engines(settings, "llm")
    assert loaded.llm is not None
    history = [ChatMessage("system", settings.system_prompt)]
    try:
        if once is not None:
            await _answer(loaded.llm, history, once, settings)
            return
        stderr.print("[dim]Type a message; an empty line or Ctrl-D ends the chat.[/]")
        while True:
            try:
                question = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not question.strip():
                break
            await _answer(loaded.llm, history, question, settings)
    finally:
        await loaded.aclose()


async def _answer(llm: LlmEngine, history: list[ChatMessage], question: str, settings: Settings) -> None:
    history.append(ChatMessage("user", question))
    parts: list[str] = []
    async for chunk in llm.chat(
        history, max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature
    ):
        parts.append(chunk.text)
        sys.stdout.write(chunk.text)
        sys.stdout.flush()
    sys.stdout.write("\n")
    history.append(ChatMessage("assistant", "".join(parts)))
