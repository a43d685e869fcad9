"""Exact unit and time conversions for the exact solver: "how many minutes in 3 hours", "5 miles in km".

Every factor is the definition of the unit (an inch is 0.0254 m exactly), held as a fraction, so only the
answer is rounded. A unit with two meanings is read by the other unit's kind ("ounces in a cup": fluid
ounces); a US customary volume is named as such in the answer ("3 US cups"); "degrees" with no scale, a
"ton" or a month has no one meaning and is left to the language model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from voxhub.agent.exact import ExactAnswer, as_given, capitalised, parse_number, said, strip_filler


@dataclass(frozen=True, slots=True)
class Unit:
    kind: str  # length, mass, volume, speed, time, temperature
    factor: Fraction  # in the kind's base unit: metre, kilogram, litre, metre per second, second
    singular: str
    plural: str


def _f(text: str) -> Fraction:
    return Fraction(text)


_MILE = _f("1609.344")
_NAUTICAL_MILE = _f("1852")
_HOUR = _f("3600")
_US_GALLON = _f("3.785411784")
_US_FLUID_OUNCE = _US_GALLON / 128

# Each unit: the names people say for it, then what it is.
_UNITS: tuple[tuple[tuple[str, ...], Unit], ...] = (
    (
        ("millimetres", "millimeters", "millimetre", "millimeter", "mm"),
        Unit("length", _f("0.001"), "millimetre", "millimetres"),
    ),
    (
        ("centimetres", "centimeters", "centimetre", "centimeter", "cm"),
        Unit("length", _f("0.01"), "centimetre", "centimetres"),
    ),
    (("metres", "meters", "metre", "meter", "m"), Unit("length", _f("1"), "metre", "metres")),
    (
        ("kilometres", "kilometers", "kilometre", "kilometer", "km", "kms", "k"),
        Unit("length", _f("1000"), "kilometre", "kilometres"),
    ),
    (("inches", "inch"), Unit("length", _f("0.0254"), "inch", "inches")),
    (("feet", "foot", "ft"), Unit("length", _f("0.3048"), "foot", "feet")),
    (("yards", "yard", "yd", "yds"), Unit("length", _f("0.9144"), "yard", "yards")),
    (("miles", "mile", "mi"), Unit("length", _MILE, "mile", "miles")),
    (("nautical miles", "nautical mile"), Unit("length", _NAUTICAL_MILE, "nautical mile", "nautical miles")),
    (("milligrams", "milligram", "mg"), Unit("mass", _f("0.000001"), "milligram", "milligrams")),
    (("grams", "gram", "grammes", "gramme", "g"), Unit("mass", _f("0.001"), "gram", "grams")),
    (("kilograms", "kilogram", "kilos", "kilo", "kg", "kgs"), Unit("mass", _f("1"), "kilogram", "kilograms")),
    (("tonnes", "tonne", "metric tons", "metric ton"), Unit("mass", _f("1000"), "tonne", "tonnes")),
    (("ounces", "ounce", "oz"), Unit("mass", _f("0.028349523125"), "ounce", "ounces")),
    (("pounds", "pound", "lbs", "lb"), Unit("mass", _f("0.45359237"), "pound", "pounds")),
    (("stones", "stone"), Unit("mass", _f("6.35029318"), "stone", "stone")),
    (
        ("millilitres", "milliliters", "millilitre", "milliliter", "ml"),
        Unit("volume", _f("0.001"), "millilitre", "millilitres"),
    ),
    (
        ("centilitres", "centiliters", "centilitre", "centiliter", "cl"),
        Unit("volume", _f("0.01"), "centilitre", "centilitres"),
    ),
    (
        ("decilitres", "deciliters", "decilitre", "deciliter", "dl"),
        Unit("volume", _f("0.1"), "decilitre", "decilitres"),
    ),
    (("litres", "liters", "litre", "liter", "l"), Unit("volume", _f("1"), "litre", "litres")),
    (
        ("cubic metres", "cubic meters", "cubic metre", "cubic meter"),
        Unit("volume", _f("1000"), "cubic metre", "cubic metres"),
    ),
    (("teaspoons", "teaspoon", "tsp"), Unit("volume", _US_FLUID_OUNCE / 6, "US teaspoon", "US teaspoons")),
    (
        ("tablespoons", "tablespoon", "tbsp"),
        Unit("volume", _US_FLUID_OUNCE / 2, "US tablespoon", "US tablespoons"),
    ),
    (
        ("fluid ounces", "fluid ounce", "fl oz", "ounces", "ounce", "oz"),
        Unit("volume", _US_FLUID_OUNCE, "US fluid ounce", "US fluid ounces"),
    ),
    (("cups", "cup"), Unit("volume", _US_FLUID_OUNCE * 8, "US cup", "US cups")),
    (("pints", "pint"), Unit("volume", _US_FLUID_OUNCE * 16, "US pint", "US pints")),
    (("quarts", "quart"), Unit("volume", _US_FLUID_OUNCE * 32, "US quart", "US quarts")),
    (("gallons", "gallon"), Unit("volume", _US_GALLON, "US gallon", "US gallons")),
    (
        ("imperial pints", "imperial pint", "uk pints", "uk pint", "british pints", "british pint"),
        Unit("volume", _f("0.56826125"), "imperial pint", "imperial pints"),
    ),
    (
        (
            "imperial gallons",
            "imperial gallon",
            "uk gallons",
            "uk gallon",
            "british gallons",
            "british gallon",
        ),
        Unit("volume", _f("4.54609"), "imperial gallon", "imperial gallons"),
    ),
    (
        ("metres per second", "meters per second", "metre per second", "meter per second", "m/s"),
        Unit("speed", _f("1"), "metre per second", "metres per second"),
    ),
    (
        (
            "kilometres per hour",
            "kilometers per hour",
            "kilometre per hour",
            "kilometer per hour",
            "km per hour",
            "km/h",
            "kmh",
            "kph",
        ),
        Unit("speed", 1000 / _HOUR, "kilometre per hour", "kilometres per hour"),
    ),
    (
        ("miles per hour", "mile per hour", "miles an hour", "mph"),
        Unit("speed", _MILE / _HOUR, "mile per hour", "miles per hour"),
    ),
    (("knots", "knot"), Unit("speed", _NAUTICAL_MILE / _HOUR, "knot", "knots")),
    (
        ("feet per second", "foot per second"),
        Unit("speed", _f("0.3048"), "foot per second", "feet per second"),
    ),
    (("milliseconds", "millisecond", "ms"), Unit("time", _f("0.001"), "millisecond", "milliseconds")),
    (("seconds", "second", "secs", "sec"), Unit("time", _f("1"), "second", "seconds")),
    (("minutes", "minute", "mins", "min"), Unit("time", _f("60"), "minute", "minutes")),
    (("hours", "hour", "hrs", "hr"), Unit("time", _HOUR, "hour", "hours")),
    (("days", "day"), Unit("time", _f("86400"), "day", "days")),
    (("weeks", "week"), Unit("time", _f("604800"), "week", "weeks")),
    (
        (
            "degrees celsius",
            "degree celsius",
            "degrees centigrade",
            "celsius",
            "centigrade",
            "degrees c",
            "°c",
            "℃",
            "c",
        ),
        Unit("temperature", _f("1"), "degree Celsius", "degrees Celsius"),
    ),
    (
        ("degrees fahrenheit", "degree fahrenheit", "fahrenheit", "degrees f", "°f", "℉", "f"),
        Unit("temperature", _f("5") / 9, "degree Fahrenheit", "degrees Fahrenheit"),
    ),
    (("kelvins", "kelvin", "degrees kelvin"), Unit("temperature", _f("1"), "kelvin", "kelvins")),
)

_BY_NAME: dict[str, list[Unit]] = {}
for _names, _unit in _UNITS:
    for _name in _names:
        _BY_NAME.setdefault(_name, []).append(_unit)

_UNIT = "|".join(re.escape(name) for name in sorted(_BY_NAME, key=len, reverse=True))
_AMOUNT = r"(?P<amount>-?\d+(?:\.\d+)?|an?|one)"
_FROM = rf"(?P<from>{_UNIT})"
_TO = rf"(?P<to>{_UNIT})"
_HOW_MANY = re.compile(
    rf"^how many {_TO} (?:are there |is there |are |is |make up |make |go into |fit in |in |per )?"
    rf"(?:in |per )?(?:a |an )?{_AMOUNT}\s?{_FROM}(?: (?:have|has|make|hold))?$"
)
_HOW_MANY_A = re.compile(
    rf"^how many {_TO} (?:are there |is there |are |is )?(?:in|per) (?P<amount>an?) {_FROM}$"
)
_IN = re.compile(
    rf"^(?:how (?:much|many|far|long|heavy|fast|hot|cold|big) is |what is )?{_AMOUNT}\s?{_FROM} "
    rf"(?:in|to|into|as|in terms of|is how many|equals how many|is how much) {_TO}$"
)


def solve_conversion(text: str, today: date) -> ExactAnswer | None:
    question = strip_filler(text)
    for pattern, how_many in ((_HOW_MANY_A, True), (_HOW_MANY, True), (_IN, False)):
        match = pattern.match(question)
        if match is not None:
            return _convert(match["amount"], match["from"], match["to"], how_many=how_many)
    return None


def convert(amount: float | str, source: str, target: str) -> ExactAnswer | None:
    """`amount` `source` units in `target` units, as a sentence; None for an unknown or ambiguous unit.

    For tools: 5, "miles", "km" gives 5 miles is about 8.05 kilometres.
    """
    source, target = (" ".join(unit.casefold().split()) for unit in (source, target))
    if source not in _BY_NAME or target not in _BY_NAME:
        return None
    written = format(amount, "f") if isinstance(amount, float) else str(amount)
    if not re.fullmatch(r"-?\d+(?:\.\d+)?", written):
        return None
    written = written.rstrip("0").rstrip(".") if "." in written else written
    return _convert(written, source, target, how_many=False)


def _pick(source: str, target: str) -> tuple[Unit, Unit] | None:
    """The one reading of both units with one kind ("ounces" in "ounces in a cup" is a volume)."""
    pairs = [
        (a, b)
        for a in _BY_NAME[source]
        for b in _BY_NAME[target]
        if a.kind == b.kind and (a is not b or source == target)
    ]
    return pairs[0] if len(pairs) == 1 else None


def _convert(amount_text: str, source: str, target: str, *, how_many: bool) -> ExactAnswer | None:
    units = _pick(source, target)
    if units is None or units[0] == units[1]:
        return None
    origin, goal = units
    article = amount_text in ("a", "an", "one") and amount_text != "one"
    amount = Fraction(1) if amount_text in ("a", "an", "one") else parse_number(amount_text)
    if origin.kind == "temperature":
        result = _temperature(amount, origin, goal)
        if result is None:
            return None
        how_many = False
    else:
        if amount < 0:
            return None
        result = amount * origin.factor / goal.factor
    given = (
        f"{amount_text} {origin.singular}" if article else _quantity(amount, origin, as_given(amount_text))
    )
    answer = _quantity(result, goal, said(result))
    if how_many:
        verb = "is" if answer.startswith("1 ") else "are"
        sentence = f"There {verb} {answer} in {given}."
    else:
        sentence = f"{capitalised(given)} is {answer}."
    return ExactAnswer(sentence, "conversion")


def _quantity(value: Fraction, unit: Unit, written: str) -> str:
    return f"{written} {unit.singular if value == 1 and written == '1' else unit.plural}"


def _temperature(value: Fraction, origin: Unit, goal: Unit) -> Fraction | None:
    """Degrees from one scale to another, through kelvins."""
    kelvin = {
        "degree Celsius": value + _f("273.15"),
        "degree Fahrenheit": (value - 32) * 5 / 9 + _f("273.15"),
        "kelvin": value,
    }[origin.singular]
    if kelvin < 0:
        return None  # below absolute zero: not a temperature
    return {
        "degree Celsius": kelvin - _f("273.15"),
        "degree Fahrenheit": (kelvin - _f("273.15")) * 9 / 5 + 32,
        "kelvin": kelvin,
    }[goal.singular]
