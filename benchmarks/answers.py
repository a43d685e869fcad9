"""Everyday prompts through the embedded model (SmolLM2-135M on llama.cpp), old and new decoding in one run.

    PYTHONPATH=src .venv/bin/python benchmarks/answers.py [--only facts] [--show]
    PYTHONPATH=src .venv/bin/python benchmarks/answers.py --exact [--show]

`--exact` asks the arithmetic, percentage, conversion and date set (`EXACT`) twice: of the embedded model
alone (before), and as voxhub answers it (the offline agent's exact solver first, the model for the rest), and
prints correct % for each group. An answer is correct when it holds the expected number (within 1% for a
rounded one) or, for a weekday, the expected day.

For each decoding set: runaways (answers that loop and run on to the 256-token cap: most of a minute of
speech), how many answers looped at all (by the repetition guard's rules: cut live when the guard is on,
found afterwards in the streamed words when it is off), how many reached the cap, how many of those end
mid-sentence as the model wrote them and as voxhub says them (ended at the last whole sentence or line:
`answer_cut`), answer length in words and time to the first sentence (what speech waits for), p50 and
p95. Runaways are counted for the open prompts (jokes, stories) on their own too. The last set is voxhub
as a voice turn answers: the assistant persona's spoken budget (`max_spoken_tokens`) instead of 256.
`--show` prints every answer.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from voxhub.agent.exact import normalise, solve
from voxhub.agent.offline import OfflineAgent
from voxhub.agent.personas import shipped_personas
from voxhub.config import load_settings
from voxhub.engines.llm.base import LOOP_CUT, ChatMessage
from voxhub.engines.llm.clean_cut import ANSWER_CUT
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

_TODAY = date.today()
_CHRISTMAS = date(_TODAY.year + (date(_TODAY.year, 12, 25) < _TODAY), 12, 25)
_HALLOWEEN = date(_TODAY.year + (date(_TODAY.year, 10, 31) < _TODAY), 10, 31)
# Questions with one right answer: (prompt, the number or weekday the answer must hold).
EXACT: dict[str, tuple[tuple[str, str], ...]] = {
    "arithmetic": (
        ("What is 17 times 23?", "391"),
        ("What is 15 + 27?", "42"),
        ("What is one hundred divided by four?", "25"),
        ("What is the square root of eighty-one?", "9"),
        ("What is 2 to the power of 10?", "1024"),
        ("What is 144 divided by 12?", "12"),
        ("What is 1,250 minus 375?", "875"),
        ("What is 9 squared?", "81"),
        ("What is 3.5 times 4?", "14"),
        ("What is 100 divided by 8?", "12.5"),
    ),
    "percentages": (
        ("What is 15 percent of 80?", "12"),
        ("What is 20% off 50?", "40"),
        ("What is 25 percent of 300?", "75"),
        ("What percent of 80 is 20?", "25"),
        ("What is a 15% tip on $40?", "6"),
    ),
    "conversions": (
        ("How many feet are in a mile?", "5280"),
        ("Convert 5 miles to kilometers.", "8.05"),
        ("What is 100 degrees Fahrenheit in Celsius?", "37.8"),
        ("What is 20 degrees Celsius in Fahrenheit?", "68"),
        ("How many grams are in 2.5 kilograms?", "2500"),
        ("How many ounces are in a pound?", "16"),
        ("What is 100 km/h in mph?", "62.1"),
        ("How many centimeters are in 3 inches?", "7.62"),
    ),
    "time": (
        ("How many minutes are in 3 hours?", "180"),
        ("How many seconds are in a day?", "86400"),
        ("How many hours are in a week?", "168"),
        ("How many minutes are in an hour?", "60"),
    ),
    "dates": (
        ("How many days until Christmas?", str((_CHRISTMAS - _TODAY).days)),
        ("How many days until Halloween?", str((_HALLOWEEN - _TODAY).days)),
        ("What day is it today?", f"{_TODAY:%A}"),
        ("What day of the week will it be in 10 days?", f"{_TODAY + timedelta(days=10):%A}"),
    ),
}


def holds(answer: str, expected: str) -> bool:
    """Whether `answer` says `expected`: the weekday, or the number (within 1%) in digits or words."""
    if not expected[0].isdigit():
        return expected.casefold() in answer.casefold()
    wanted = Decimal(expected)
    for found in re.findall(r"-?\d+(?:\.\d+)?", normalise(answer)):
        value = Decimal(found)
        if value == wanted or (wanted and abs(value - wanted) / abs(wanted) <= Decimal("0.01")):
            return True
    return False


SPOKEN = shipped_personas()["assistant"].max_spoken_tokens
# The decodings compared: what voxhub sent before (greedy, nothing else), and candidates; each with the
# guard on or off and its token budget.
DECODINGS: dict[str, tuple[Mapping[str, Any], bool, int]] = {
    "old (greedy)": ({}, False, MAX_TOKENS),
    "old + guard": ({}, True, MAX_TOKENS),
    "repeat_penalty 1.15": ({"repeat_penalty": 1.15, "repeat_last_n": 128}, False, MAX_TOKENS),
    "dry 0.8": (
        {"dry_multiplier": 0.8, "dry_base": 1.75, "dry_allowed_length": 2, "dry_penalty_last_n": 512},
        False,
        MAX_TOKENS,
    ),
    "new (LOCAL_SAMPLING)": (LOCAL_SAMPLING, False, MAX_TOKENS),
    "new + guard (voxhub text)": (LOCAL_SAMPLING, True, MAX_TOKENS),
    f"voxhub spoken ({SPOKEN}-token budget)": (LOCAL_SAMPLING, True, SPOKEN),
}
_ENDED = re.compile(r"[.!?…][\"')\]]*\s*$")


def ended(text: str) -> bool:
    """Whether `text` ends a sentence or a line (a list item, a verse); a list item's number alone ("7.")
    ends nothing."""
    if text.rstrip(" \t").endswith("\n"):
        return True
    if re.fullmatch(r"\d{1,3}\.", text.rsplit("\n", 1)[-1].strip()):
        return False
    return bool(_ENDED.search(text))


@dataclass(frozen=True, slots=True)
class Answer:
    prompt: str
    text: str
    finish_reason: str
    first_sentence_secs: float
    said: str  # as voxhub says it (unstripped)
    dropped: str  # what `answer_cut` left unsaid: `said` + `dropped` is what the model wrote

    @property
    def looped(self) -> bool:
        if self.finish_reason == LOOP_CUT:
            return True
        guard = RepetitionGuard()  # fed word by word, as the answer streamed
        return any(guard.push(word) is not None and guard.looped for word in re.split(r"(?=\s)", self.text))

    @property
    def mid_sentence(self) -> bool:
        """Cut by the budget in the middle of a sentence, and said so."""
        return self.finish_reason == "length" and not ended(self.said + self.dropped)

    @property
    def said_mid_sentence(self) -> bool:
        """...as voxhub says it."""
        return self.finish_reason == "length" and not ended(self.said)

    @property
    def words(self) -> int:
        return len(self.text.split())


async def ask(llm: OpenAiLlm, system: str, prompt: str, budget: int = MAX_TOKENS) -> Answer:
    started = time.perf_counter()
    first: float | None = None
    splitter = SentenceSplitter()
    text: list[str] = []
    dropped = ""
    finish = "stop"
    messages = [ChatMessage("system", system), ChatMessage("user", prompt)]
    async for chunk in llm.chat(messages, max_tokens=budget, temperature=0.0):
        text.append(chunk.text)
        if chunk.notice is not None and chunk.notice[0] == ANSWER_CUT:
            dropped = str(chunk.notice[1]["dropped"])
        if first is None and splitter.push(chunk.text):
            first = time.perf_counter() - started
        finish = chunk.finish_reason or finish
    if first is None:
        first = time.perf_counter() - started
    said = "".join(text)
    return Answer(prompt, said.strip(), finish, first, said, dropped)


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def main(groups: list[str], names: list[str], show: bool) -> None:
    settings = load_settings()
    server = LocalLlm.from_settings(settings.model_copy(update={"llm_slots": 1, "llm_context_tokens": 2048}))
    system = shipped_personas()["assistant"].system_prompt()
    prompts = [prompt for group in groups for prompt in PROMPTS[group]]
    print(f"{len(prompts)} prompts ({', '.join(groups)}), max_tokens {MAX_TOKENS}, temperature 0\n")
    print(
        "| decoding | runaways | loops | at the cap | cut mid-sentence: written → said | words p50 | words p95 "
        "| first sentence p50 | p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for name in names:
            sampling, guarded, budget = DECODINGS[name]
            llm = OpenAiLlm(
                base_url=server.base_url,
                api_key=server.api_key,
                model=server.capabilities.model,
                timeout_secs=120.0,
                loopback=True,
                sampling=sampling,
                repetition_guard=guarded,
            )
            answers = [await ask(llm, system, prompt, budget) for prompt in prompts]
            await llm.aclose()
            words = p50_p95([float(a.words) for a in answers])
            first = p50_p95([a.first_sentence_secs for a in answers])
            looped = sum(a.looped for a in answers)
            capped = sum(a.finish_reason == "length" for a in answers)
            runaways = sum(a.finish_reason == "length" and a.looped for a in answers)
            mid = sum(a.mid_sentence for a in answers)
            said_mid = sum(a.said_mid_sentence for a in answers)
            open_runaways = sum(
                a.finish_reason == "length" and a.looped for a in answers if a.prompt in PROMPTS["open"]
            )
            print(
                f"| {name} | {runaways} ({open_runaways} open) | {looped} | {capped} | {mid} → {said_mid} "
                f"| {words[0]:.0f} | {words[1]:.0f} "
                f"| {first[0]:.2f} s | {first[1]:.2f} s |",
                flush=True,
            )
            if show:
                for answer in answers:
                    mark = "LOOP " if answer.looped else ""
                    shown = (
                        answer.text
                        if len(answer.text) <= 300
                        else f"{answer.text[:200]} … {answer.text[-90:]}"
                    )
                    print(f"    {mark}[{answer.finish_reason}] {answer.prompt!r}: {shown!r}")
                    if answer.dropped:
                        print(f"        left unsaid: {answer.dropped!r}")
    finally:
        await server.aclose()


async def exact_run(show: bool) -> None:
    settings = load_settings()
    server = LocalLlm.from_settings(settings.model_copy(update={"llm_slots": 1, "llm_context_tokens": 2048}))
    system = shipped_personas()["assistant"].system_prompt()
    sampling, guarded, _ = DECODINGS["new + guard (voxhub text)"]
    llm = OpenAiLlm(
        base_url=server.base_url,
        api_key=server.api_key,
        model=server.capabilities.model,
        timeout_secs=120.0,
        loopback=True,
        sampling=sampling,
        repetition_guard=guarded,
    )
    agent = await OfflineAgent.load()
    total = sum(len(questions) for questions in EXACT.values())
    print(f"{total} questions with one right answer, today {_TODAY}; the embedded model at temperature 0\n")
    print("| group | questions | model alone | voxhub (exact solver, then model) | answered by the solver |")
    print("|---|---|---|---|---|")
    sums = [0, 0, 0]
    try:
        for group, questions in EXACT.items():
            before = after = solved = 0
            for prompt, expected in questions:
                alone = (await ask(llm, system, prompt)).text
                reply = await agent.handle(prompt)
                voxhub = reply.text if reply is not None else alone
                before += holds(alone, expected)
                after += holds(voxhub, expected)
                solved += reply is not None
                if show:
                    print(f"    {prompt!r} want {expected}: model {alone[:120]!r} | voxhub {voxhub[:120]!r}")
            sums = [sums[0] + before, sums[1] + after, sums[2] + solved]
            n = len(questions)
            print(f"| {group} | {n} | {before / n:.0%} | {after / n:.0%} | {solved}/{n} |", flush=True)
        print(f"| **all** | {total} | {sums[0] / total:.0%} | {sums[1] / total:.0%} | {sums[2]}/{total} |")
        timings = []
        for _ in range(20):
            for prompt in [p for questions in EXACT.values() for p, _ in questions] + list(PROMPTS["facts"]):
                started = time.perf_counter()
                solve(prompt, _TODAY)
                timings.append((time.perf_counter() - started) * 1000)
        p50, p95 = p50_p95(timings)
        print(
            f"\nthe solver alone, p50 / p95 over this set and the facts prompts x 20: {p50:.2f} / {p95:.2f} ms"
        )
    finally:
        await agent.aclose()
        await llm.aclose()
        await server.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(PROMPTS), action="append", help="a group of prompts")
    parser.add_argument("--decoding", choices=sorted(DECODINGS), action="append", help="a decoding set")
    parser.add_argument("--show", action="store_true", help="print every answer")
    parser.add_argument("--exact", action="store_true", help="the exact set: model alone against voxhub")
    args = parser.parse_args()
    if args.exact:
        asyncio.run(exact_run(args.show))
    else:
        asyncio.run(main(args.only or list(PROMPTS), args.decoding or list(DECODINGS), args.show))
