"""The property check: tests of a generated tool that the generating model did not write.

A model that gets a conversion wrong writes its tests with the same mistake (a km → miles tool multiplied
by 1.609 and passed its own tests), so voxhub adds checks of its own, run in the same sandbox:
- `types`: called with arguments its schema allows, the tool returns a JSON value (never None), of one
  type for every call, with finite numbers;
- `round_trip`: a unit conversion (`km_to_miles`, "convert Celsius to Fahrenheit") is converted back with
  voxhub's own factors, and must land on what went in (within 1 %); so must be non-negative where the
  quantity cannot be negative.

The check is Python source built here from literals (the cases), run beside the tool's source exactly as
its own tests are: inside the sandbox, which stays the only boundary around generated code.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from voxhub.agent.autofunction.sandbox import SandboxResult

# unit → (quantity, factor to the base unit, offset): base = value * factor + offset
_LENGTH = {
    "m": 1.0,
    "meter": 1.0,
    "metre": 1.0,
    "km": 1000.0,
    "kilometer": 1000.0,
    "kilometre": 1000.0,
    "cm": 0.01,
    "centimeter": 0.01,
    "centimetre": 0.01,
    "mm": 0.001,
    "millimeter": 0.001,
    "millimetre": 0.001,
    "mi": 1609.344,
    "mile": 1609.344,
    "yd": 0.9144,
    "yard": 0.9144,
    "ft": 0.3048,
    "foot": 0.3048,
    "feet": 0.3048,
    "in": 0.0254,
    "inch": 0.0254,
    "inches": 0.0254,
    "nmi": 1852.0,
}
_MASS = {
    "kg": 1.0,
    "kilogram": 1.0,
    "g": 0.001,
    "gram": 0.001,
    "mg": 1e-6,
    "milligram": 1e-6,
    "lb": 0.45359237,
    "lbs": 0.45359237,
    "pound": 0.45359237,
    "oz": 0.028349523125,
    "ounce": 0.028349523125,
    "stone": 6.35029318,
    "tonne": 1000.0,
}
_VOLUME = {
    "l": 1.0,
    "liter": 1.0,
    "litre": 1.0,
    "ml": 0.001,
    "milliliter": 0.001,
    "millilitre": 0.001,
    "gallon": 3.785411784,
    "gal": 3.785411784,
    "quart": 0.946352946,
    "pint": 0.473176473,
    "cup": 0.2365882365,
}
_TIME = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 604800.0,
}
_SPEED = {"kmh": 1 / 3.6, "kph": 1 / 3.6, "mph": 0.44704, "mps": 1.0, "knot": 0.514444, "kn": 0.514444}
_ENERGY = {"j": 1.0, "joule": 1.0, "kj": 1000.0, "cal": 4.184, "calorie": 4.184, "kcal": 4184.0, "kwh": 3.6e6}
UNITS: dict[str, tuple[str, float, float]] = {
    **{unit: ("length", factor, 0.0) for unit, factor in _LENGTH.items()},
    **{unit: ("mass", factor, 0.0) for unit, factor in _MASS.items()},
    **{unit: ("volume", factor, 0.0) for unit, factor in _VOLUME.items()},
    **{unit: ("time", factor, 0.0) for unit, factor in _TIME.items()},
    **{unit: ("speed", factor, 0.0) for unit, factor in _SPEED.items()},
    **{unit: ("energy", factor, 0.0) for unit, factor in _ENERGY.items()},
    # temperature: to kelvin
    "c": ("temperature", 1.0, 273.15),
    "celsius": ("temperature", 1.0, 273.15),
    "centigrade": ("temperature", 1.0, 273.15),
    "f": ("temperature", 5 / 9, 273.15 - 32 * 5 / 9),
    "fahrenheit": ("temperature", 5 / 9, 273.15 - 32 * 5 / 9),
    "k": ("temperature", 1.0, 0.0),
    "kelvin": ("temperature", 1.0, 0.0),
}
_CAN_BE_NEGATIVE = frozenset({"temperature"})
TOLERANCE = 0.01  # relative, of the value converted back
_TEMPERATURE_SLACK = 0.1  # degrees, for a result rounded to one decimal
_NAME_PAIR = re.compile(r"^(?:convert_)?([a-z]+)_(?:to|in|into)_([a-z]+)$")
# Overlapping: "a length in meters to feet" holds "length in meters" and "meters to feet". Words of two
# letters or more: in prose "in" and "a" are not units.
_TEXT_PAIR = re.compile(r"(?=\b([a-z]{2,})\s+(?:to|into|in)\s+([a-z]{2,})\b)")
_MAX_CASES = 4


@dataclass(frozen=True, slots=True)
class Conversion:
    """`source` units in, `target` units out, of one `quantity`."""

    parameter: str
    source: str
    target: str
    quantity: str


@dataclass(frozen=True, slots=True)
class PropertyCheck:
    """What will be checked: the `checks` by name, the test source, or why nothing can be."""

    checks: tuple[str, ...] = ()
    source: str = ""
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class PropertyReport:
    """How the check went: `passed` is False only when a check failed (a skipped check passes)."""

    checks: tuple[str, ...]
    failures: tuple[dict[str, Any], ...] = ()
    skipped: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.error

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": list(self.checks),
            "failures": list(self.failures),
            "skipped": self.skipped,
            "error": self.error,
        }


def conversion_of(name: str, description: str, parameters: Mapping[str, Any]) -> Conversion | None:
    """The unit conversion a tool does, if its name or description says one and it takes one number."""
    numbers = [key for key, spec in _properties(parameters).items() if _kind(spec) in ("number", "integer")]
    if len(numbers) != 1:
        return None
    pairs = [match.groups() for match in [_NAME_PAIR.match(name.lower())] if match]
    pairs += _TEXT_PAIR.findall(description.lower())
    for source, target in pairs:
        source_unit, target_unit = UNITS.get(_unit(source)), UNITS.get(_unit(target))
        if source_unit and target_unit and source_unit[0] == target_unit[0] and source != target:
            return Conversion(numbers[0], _unit(source), _unit(target), source_unit[0])
    return None


def build_check(name: str, function: str, description: str, parameters: Mapping[str, Any]) -> PropertyCheck:
    """The property tests for a tool whose `def` is `function`, or why there are none."""
    samples = _sample_arguments(parameters)
    if samples is None:
        return PropertyCheck(skipped="its arguments cannot be chosen from the schema alone")
    checks = ["types"]
    lines = [_HELPERS, f"_CASES = {samples!r}", _TYPES_TEST.format(function=function)]
    conversion = conversion_of(name, description, parameters)
    if conversion is not None:
        checks.append("round_trip")
        lines.append(f"_TRIPS = {_trips(conversion)!r}")
        lines.append(_ROUND_TRIP_TEST.format(function=function))
    return PropertyCheck(tuple(checks), "\n\n".join(lines) + "\n")


def read_report(check: PropertyCheck, result: SandboxResult) -> PropertyReport:
    """The report of a check's sandboxed run; each failure is the failing case, as a dict."""
    if not check.checks:
        return PropertyReport((), skipped=check.skipped)
    if not result.ok or result.tests is None:
        reason = result.error.message if result.error else "the sandbox gave no test report"
        return PropertyReport(check.checks, error=reason)
    failures = tuple(_case(failure) for failure in result.tests.failures)
    return PropertyReport(check.checks, failures)


def _case(failure: Mapping[str, Any]) -> dict[str, Any]:
    """The case a check raised as a dict literal; any other failure (the tool itself raising) as is."""
    message = str(failure.get("message", ""))
    try:
        case = ast.literal_eval(message)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        case = None
    if isinstance(case, dict) and "check" in case:
        return case
    return {"check": str(failure.get("test", "")), "message": message, "type": failure.get("type")}


def _properties(parameters: Mapping[str, Any]) -> dict[str, Any]:
    properties = parameters.get("properties")
    return dict(properties) if isinstance(properties, Mapping) else {}


def _kind(spec: Any) -> str:
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    return kind if isinstance(kind, str) else ""


def _unit(word: str) -> str:
    word = word.lower().rstrip(".")
    if word in UNITS:
        return word
    if word.endswith("es") and word[:-2] in UNITS:
        return word[:-2]
    return word[:-1] if word.endswith("s") and word[:-1] in UNITS else word


def _sample_arguments(parameters: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A few argument sets within the schema, or None if a required argument has no safe sample (free
    text: the tool may rightly refuse words it does not know)."""
    required = parameters.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    columns: dict[str, list[Any]] = {}
    for key, spec in _properties(parameters).items():
        values = _samples(spec if isinstance(spec, Mapping) else {})
        if values is None:
            if key in required_names:
                return None
            continue  # optional: left to its default
        if key in required_names:
            columns[key] = values
    if not columns:
        return [{}]
    count = min(_MAX_CASES, max(len(values) for values in columns.values()))
    return [{key: values[index % len(values)] for key, values in columns.items()} for index in range(count)]


def _samples(spec: Mapping[str, Any]) -> list[Any] | None:
    if isinstance(spec.get("enum"), list) and spec["enum"]:
        return list(spec["enum"])[:_MAX_CASES]
    kind = _kind(spec)
    if kind in ("number", "integer"):
        values: list[Any] = [1, 2.5, 10, 100] if kind == "number" else [1, 2, 10, 100]
        low, high = spec.get("minimum"), spec.get("maximum")
        if isinstance(low, int | float):
            values = [value for value in values if value >= low] or [low]
        if isinstance(high, int | float):
            values = [value for value in values if value <= high] or [high]
        return values
    if kind == "boolean":
        return [True, False]
    return None


def _trips(conversion: Conversion) -> list[dict[str, Any]]:
    """Inputs whose converted values are at least 10 (so a result rounded to two decimals stays within the
    tolerance), each with what converting back must give."""
    _, source_factor, _ = UNITS[conversion.source]
    _, target_factor, target_offset = UNITS[conversion.target]
    if conversion.quantity == "temperature":
        inputs = [0.0, 37.0, 100.0]
    else:
        ratio = source_factor / target_factor  # target units per source unit
        scale = 10.0 ** max(0, math.ceil(math.log10(10 / ratio)))
        inputs = [scale, 2.5 * scale, 10 * scale]
    slack = _TEMPERATURE_SLACK if conversion.quantity == "temperature" else 0.0
    back = (target_factor / source_factor, (target_offset - UNITS[conversion.source][2]) / source_factor)
    return [
        {
            "parameter": conversion.parameter,
            "value": value,
            "source": conversion.source,
            "target": conversion.target,
            "back": back,  # source = result * back[0] + back[1]
            "slack": slack,
            "non_negative": conversion.quantity not in _CAN_BE_NEGATIVE,
        }
        for value in inputs
    ]


# The tests, run inside the sandbox beside the tool. Builtins only: nothing to import. A failing case is
# raised as a dict literal, which `read_report` reads back.
_HELPERS = '''
def _voxhub_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        numbers = [v for v in value.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return float(numbers[0]) if len(numbers) == 1 else None
    return None


def _voxhub_plain(value, depth=0):
    """Whether `value` is made of JSON's own types (None inside is fine, finite numbers only)."""
    if depth > 20:
        return False
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, (list, tuple)):
        return all(_voxhub_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _voxhub_plain(v, depth + 1) for k, v in value.items())
    return False


def _voxhub_shown(value):
    return value if _voxhub_plain(value) else repr(value)[:200]
'''.strip()

_TYPES_TEST = """
def test_voxhub_types():
    kinds = {{}}
    for arguments in _CASES:
        try:
            value = {function}(**arguments)
        except Exception as exc:
            raise AssertionError(repr({{"check": "types", "arguments": arguments, "message": "it raised %s: %s"
                                       % (type(exc).__name__, str(exc)[:300])}}))
        case = {{"check": "types", "arguments": arguments, "result": _voxhub_shown(value)}}
        if value is None:
            raise AssertionError(repr(dict(case, message="it returned nothing (None)")))
        if not _voxhub_plain(value):
            raise AssertionError(repr(dict(case, message="it returned a value JSON cannot carry, or not a "
                                                          "finite number")))
        kind = "number" if _voxhub_number(value) is not None and not isinstance(value, dict) else type(value).__name__
        kinds.setdefault(kind, arguments)
        if len(kinds) > 1:
            raise AssertionError(repr(dict(case, message="it returned values of different types: "
                                                          + ", ".join(sorted(kinds)))))
""".strip()

_ROUND_TRIP_TEST = """
def test_voxhub_round_trip():
    for trip in _TRIPS:
        arguments = {{trip["parameter"]: trip["value"]}}
        try:
            value = {function}(**arguments)
        except Exception as exc:
            raise AssertionError(repr({{"check": "round_trip", "arguments": arguments, "message": "it raised "
                                       "%s: %s" % (type(exc).__name__, str(exc)[:300])}}))
        number = _voxhub_number(value)
        case = {{"check": "round_trip", "arguments": arguments, "result": _voxhub_shown(value)}}
        if number is None:
            raise AssertionError(repr(dict(case, message="a conversion must return a number")))
        back = number * trip["back"][0] + trip["back"][1]
        case["converted_back"] = round(back, 6)
        if trip["non_negative"] and number < 0:
            raise AssertionError(repr(dict(case, message="a negative result of a quantity that cannot be negative")))
        allowed = abs(trip["value"]) * {tolerance} + trip["slack"]
        if abs(back - trip["value"]) > allowed:
            raise AssertionError(repr(dict(case, message="%s %s converted back is %s %s, not %s %s" % (
                case["result"], trip["target"], round(back, 4), trip["source"], trip["value"], trip["source"]))))
""".strip().replace("{tolerance}", repr(TOLERANCE))
