"""Per-turn cost of the agent's emotion recognizer and spoken-style normaliser on this machine.

    .venv/bin/python benchmarks/agent_emotion.py [--config voxhub.yaml]

Classifies ~200 varied utterances once each (after a warm-up) on one onnxruntime thread, and normalises
~200 sentences, then prints p50/p95/p99 per call in milliseconds for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from voxhub.agent.emotion import EmotionRecognizer
from voxhub.agent.spoken import speakable
from voxhub.config import load_settings

OPENINGS = ("", "Honestly, ", "Oh, ", "Well, ", "You know what? ")
FEELINGS = (
    "I'm so happy with how the party went",
    "this stupid printer jammed again and I'm furious",
    "I miss my grandmother so much",
    "I'm scared there's someone in the garden",
    "I can't believe they already finished the bridge",
    "turn on the lights in the kitchen",
    "what's the weather like tomorrow morning",
    "set a timer for twenty minutes",
    "remind me to call the dentist on Monday",
    "the package arrived but the box was completely crushed and wet",
)
ENDINGS = (".", "!", "?", " today.")
SENTENCES = (
    "It is 21°C outside with wind at 15 km/h.",
    "Your meeting with **Anna** starts at 14:30 on 2026-11-23.",
    "The total is $42.50, about 12% less than last month.",
    "- Milk\n- 2 kg of flour\n- 1 dozen eggs 🥚",
    "Sure, I can help with that. What would you like to know?",
    "See [the forecast](https://example.com/forecast) for the 3rd and 4th.",
    "The train leaves at 7:05 and arrives at 9:40 pm.",
    "We walked 5.5 km in 1 hour and 20 minutes.",
)


def percentiles_ms(durations_secs: list[float]) -> str:
    ordered = sorted(d * 1000 for d in durations_secs)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return f"p50 {statistics.median(ordered):.2f} | p95 {at(0.95):.2f} | p99 {at(0.99):.2f}"


def timed(call: Callable[[str], object], inputs: list[str]) -> list[float]:
    durations = []
    for text in inputs:
        start = time.perf_counter()
        call(text)
        durations.append(time.perf_counter() - start)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    settings = load_settings(args.config)

    start = time.perf_counter()
    recognizer = EmotionRecognizer.load(settings)
    load_secs = time.perf_counter() - start
    utterances = [a + b + c for a, b, c in itertools.product(OPENINGS, FEELINGS, ENDINGS)]
    for text in utterances[:10]:
        recognizer.classify(text)  # warm-up
    emotion = timed(recognizer.classify, utterances)
    sentences = [sentence for sentence in SENTENCES for _ in range(25)]
    speakable(SENTENCES[0])  # warm-up (num2words imports its language module lazily)
    spoken = timed(speakable, sentences)

    print(f"emotion recognizer load (model + tokenizer + label prototypes): {load_secs * 1000:.0f} ms")
    print(f"| emotion classify, {len(utterances)} utterances | {percentiles_ms(emotion)} |")
    print(f"| speakable(), {len(sentences)} sentences | {percentiles_ms(spoken)} |")


if __name__ == "__main__":
    main()
