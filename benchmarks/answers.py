"""Everyday prompts through the embedded model (SmolLM2-135M on llama.cpp), old and new decoding in one run.

    PYTHONPATH=src .venv/bin/python benchmarks/answers.py [--only facts] [--show]

For each decoding set: runaways (answers that loop and run on to the 256-token cap: most of a minute of
speech), how many answers looped at all (by the repetition guard's rules: cut live when the guard is on,
found afterwards in the streamed words when it is off), how many reached the cap, answer length in words
and time to the first sentence (what speech waits for), p50 and p95. `--show` prints every answer.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voxhub.agent.personas import shipped_personas
from voxhub.config import load_settings
from voxhub.engines.llm.base import LOOP_CUT, ChatMessage
from voxhub.engines.llm.local import LOCAL_SAMPLING, LocalLlm
from voxhub.engines.llm.openai import OpenAiLlm
from voxhub.engines.llm.repetition import RepetitionGuard
from voxhub.pipeline.sentences import SentenceSplitter

MAX_TOKENS = 256
PROMPTS: dict[str, tuple[str, ...]] = {
    "facts": (
        "What is the capital of France?",
        "How many continents are there?",
        "How many legs does a spider have?",
        "What is the boiling point of water?",
        "Who wrote Romeo and Juliet?",
        "What is the largest planet in our solar system?",
        "How many days are in a leap year?",
        "What language is spoken in Brazil?",
        "What is the tallest mountain in the world?",
        "How many minutes are in an hour?",
    ),
    "open": (
        "Tell me a joke",
        "Tell me a joke about cats.",
        "Tell me a short story about a dragon.",
        "Write a short poem about the sea.",
        "Say something nice.",
        "What should I cook tonight?",
        "Give me a fun fact.",
        "What is your favourite colour?",
        "Tell me about yourself.",
        "Can you cheer me up?",
    ),
    "how-to": (
        "How do I boil an egg?",
        "How do I make a cup of tea?",
        "How can I fall asleep faster?",
        "How do I tie a tie?",
        "How do I clean a cast iron pan?",
        "How do I change a light bulb?",
        "How can I save money on groceries?",
        "How do I keep basil alive?",
        "How do I get rid of hiccups?",
        "How do I remove a coffee stain?",
    ),
}

# The decodings compared: what voxhub sent before (greedy, nothing else), and candidates.
DECODINGS: dict[str, tuple[Mapping[str, Any], bool]] = {
    "old (greedy)": ({}, False),
    "old + guard": ({}, True),
    "repeat_penalty 1.15": ({"repeat_penalty": 1.15, "repeat_last_n": 128}, False),
    "dry 0.8": (
        {"dry_multiplier": 0.8, "dry_base": 1.75, "dry_allowed_length": 2, "dry_penalty_last_n": 512},
        False,
    ),
    "new (LOCAL_SAMPLING)": (LOCAL_SAMPLING, False),
    "new + guard (voxhub)": (LOCAL_SAMPLING, True),
}


@dataclass(frozen=True, slots=True)
class Answer:
    prompt: str
    text: str
    finish_reason: str
    first_sentence_secs: float

    @property
    def looped(self) -> bool:
        if self.finish_reason == LOOP_CUT:
            return True
        guard = RepetitionGuard()  # fed word by word, as the answer streamed
        return any(guard.push(word) is not None and guard.looped for word in re.split(r"(?=\s)", self.text))

    @property
    def words(self) -> int:
        return len(self.text.split())


async def ask(llm: OpenAiLlm, system: str, prompt: str) -> Answer:
    started = time.perf_counter()
    first: float | None = None
    splitter = SentenceSplitter()
    text: list[str] = []
    finish = "stop"
    messages = [ChatMessage("system", system), ChatMessage("user", prompt)]
    async for chunk in llm.chat(messages, max_tokens=MAX_TOKENS, temperature=0.0):
        text.append(chunk.text)
        if first is None and splitter.push(chunk.text):
            first = time.perf_counter() - started
        finish = chunk.finish_reason or finish
    if first is None:
        first = time.perf_counter() - started
    return Answer(prompt, "".join(text).strip(), finish, first)


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def main(groups: list[str], names: list[str], show: bool) -> None:
    settings = load_settings()
    server = LocalLlm.from_settings(settings.model_copy(update={"llm_slots": 1, "llm_context_tokens": 2048}))
    system = shipped_personas()["assistant"].system_prompt()
    prompts = [prompt for group in groups for prompt in PROMPTS[group]]
    print(f"{len(prompts)} prompts ({', '.join(groups)}), max_tokens {MAX_TOKENS}, temperature 0\n")
    print("| decoding | runaways | loops | at the cap | words p50 | words p95 | first sentence p50 | p95 |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for name in names:
            sampling, guarded = DECODINGS[name]
            llm = OpenAiLlm(
                base_url=server.base_url,
                api_key=server.api_key,
                model=server.capabilities.model,
                timeout_secs=120.0,
                loopback=True,
                sampling=sampling,
                repetition_guard=guarded,
            )
            answers = [await ask(llm, system, prompt) for prompt in prompts]
            await llm.aclose()
            words = p50_p95([float(a.words) for a in answers])
            first = p50_p95([a.first_sentence_secs for a in answers])
            looped = sum(a.looped for a in answers)
            capped = sum(a.finish_reason == "length" for a in answers)
            runaways = sum(a.finish_reason == "length" and a.looped for a in answers)
            print(
                f"| {name} | {runaways} | {looped} | {capped} | {words[0]:.0f} | {words[1]:.0f} "
                f"| {first[0]:.2f} s | {first[1]:.2f} s |",
                flush=True,
            )
            if show:
                for answer in answers:
                    mark = "LOOP " if answer.looped else ""
                    print(f"    {mark}[{answer.finish_reason}] {answer.prompt!r}: {answer.text[:300]!r}")
    finally:
        await server.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(PROMPTS), action="append", help="a group of prompts")
    parser.add_argument("--decoding", choices=sorted(DECODINGS), action="append", help="a decoding set")
    parser.add_argument("--show", action="store_true", help="print every answer")
    args = parser.parse_args()
    asyncio.run(main(args.only or list(PROMPTS), args.decoding or list(DECODINGS), args.show))
