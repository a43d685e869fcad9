"""How long the offline agent takes to recognize a command (hassil + home-assistant-intents), no I/O.

    .venv/bin/python benchmarks/intents.py [--rounds 20]

Loads the English templates once, gives the matcher 30 entities as if read from Home Assistant's
`GET /api/states`, in five areas as if read from its registries (`voxhub.agent.ha_registry`), said to a
satellite in the kitchen, then times ~50 commands (device commands, time, date, timers, and sentences that match
nothing) `--rounds` times each. A command's time is what `OfflineAgent.handle` spends matching with Home
Assistant configured: the full match, and for unmatched text also the search for an unknown device name.
Prints load time and p50/p95/p99 per kind of command and overall, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import time

from voxhub.agent.ha_registry import Area, HomeRegistry
from voxhub.agent.ha_targets import HomeEntity
from voxhub.agent.homeassistant import EntityState
from voxhub.agent.intents import IntentMatcher

ENTITIES = [
    EntityState(f"{domain}.{name.lower().replace(' ', '_')}", "off", {"friendly_name": name})
    for domain, names in {
        "light": [
            "Kitchen Light", "Living Room Lamp", "Bedroom Light", "Hallway Light", "Porch Light",
            "Desk Lamp", "Bathroom Light", "Garden Lights", "Nursery Night Light", "Garage Light",
        ],
        "switch": ["Coffee Maker", "Fountain Pump", "Christmas Tree", "Printer", "Heated Blanket"],
        "fan": ["Ceiling Fan", "Bathroom Fan", "Tower Fan"],
        "cover": ["Garage Door", "Living Room Blinds", "Bedroom Curtains"],
        "lock": ["Front Door", "Back Door"],
        "climate": ["Thermostat", "Upstairs Heater"],
        "media_player": ["Living Room TV", "Kitchen Speaker", "Bedroom Speaker"],
        "input_boolean": ["Guest Mode", "Vacation Mode"],
    }.items()
    for name in names
]  # fmt: skip

AREAS = {"kitchen": "Kitchen", "living_room": "Living Room", "bedroom": "Bedroom", "hallway": "Hallway",
         "bathroom": "Bathroom"}  # fmt: skip
REGISTRY = HomeRegistry(areas={area_id: Area(area_id, name) for area_id, name in AREAS.items()})


def _area(entity: EntityState) -> str | None:
    return next((a for a, name in AREAS.items() if entity.name.startswith(name)), None)


HOME = [HomeEntity(e, (e.name,), area_id=_area(e), area=AREAS.get(_area(e) or "")) for e in ENTITIES]

COMMANDS = {
    "area": [
        "turn off all the lights in the kitchen", "kitchen lights off", "turn on the lights in the living room",
        "close the blinds in the living room", "turn off the lights",
    ],
    "device": [
        "turn on the kitchen light", "turn off the kitchen light", "switch on the porch light",
        "turn the desk lamp off", "please turn on the coffee maker", "turn off the christmas tree",
        "turn on the ceiling fan", "open the garage door", "close the living room blinds",
        "lock the front door", "set the bedroom light to 40%", "set the kitchen light brightness to 75 percent",
        "set the living room lamp to blue", "set the thermostat to 21 degrees", "turn on guest mode",
        "turn off the living room tv", "is the garage door open", "what's the temperature of the thermostat",
        "turn on the garden lights", "turn off the nursery night light",
    ],
    "time, date, timers": [
        "what time is it", "what's the time", "what is the date", "what's today's date",
        "set a timer for 5 minutes", "set a 10 minute pizza timer", "set a timer for 1 hour and 30 minutes",
        "cancel the timer", "cancel the pizza timer", "what is the temperature",
    ],
    "unknown device": [
        "turn on the banana", "turn off the garage door opener", "switch on the aquarium heater",
        "set the toaster brightness to 20%", "turn on the disco ball",
    ],
    "no match": [
        "tell me a joke", "what is the capital of france", "how do I bake sourdough bread",
        "write a haiku about autumn leaves", "who won the world cup in 2018", "remind me to call mom",
        "what's the meaning of life", "translate good morning into spanish", "how far is the moon",
        "is it going to rain tomorrow", "play some jazz music", "what can you do",
        "summarize the news for me", "good night", "thank you very much",
    ],
}  # fmt: skip


def percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20, help="times each command is matched")
    args = parser.parse_args()

    started = time.perf_counter()
    matcher = IntentMatcher.load("en")
    load_secs = time.perf_counter() - started
    started = time.perf_counter()
    matcher.set_home(HOME, REGISTRY)
    entities_ms = (time.perf_counter() - started) * 1000

    timings: dict[str, list[float]] = {kind: [] for kind in COMMANDS}
    matched = {kind: 0 for kind in COMMANDS}
    for _ in range(args.rounds):
        for kind, texts in COMMANDS.items():
            for text in texts:
                started = time.perf_counter()
                found = matcher.match(text, "kitchen")  # said to a satellite in the kitchen
                unknown = None if found else matcher.unknown_device_name(text)
                timings[kind].append((time.perf_counter() - started) * 1000)
                matched[kind] += bool(found or unknown)

    total = sum(len(texts) for texts in COMMANDS.values())
    print(
        f"templates loaded and compiled in {load_secs:.2f} s; {len(ENTITIES)} entities set in {entities_ms:.0f} ms"
    )
    print(f"{total} commands x {args.rounds} rounds\n")
    print("| commands | n | recognized | p50 (ms) | p95 (ms) | p99 (ms) |\n|---|---|---|---|---|---|")
    everything = [ms for samples in timings.values() for ms in samples]
    for kind, samples in [*timings.items(), ("all", everything)]:
        p50, p95, p99 = percentiles(samples)
        count = len(COMMANDS[kind]) if kind in COMMANDS else total
        hits = matched[kind] // args.rounds if kind in COMMANDS else sum(matched.values()) // args.rounds
        print(f"| {kind} | {count} | {hits} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
