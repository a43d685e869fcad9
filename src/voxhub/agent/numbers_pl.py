"""Polish numbers with their units, times and dates in words: the case and number a unit takes after a number.

A unit after a number is nominative singular after 1 ("1 kilometr"), nominative plural after 2–4 except 12–14
("3 kilometry"), genitive plural otherwise ("5 kilometrów"), and genitive singular after a fraction
("2,5 kilometra"). Decimals read "dwa przecinek pięć", as espeak-ng -v pl says "2,5" itself.
"""

from __future__ import annotations

import re
from decimal import Decimal

from num2words import num2words

# symbol → (after 1, after 2–4, after 5+, after a fraction)
UNITS_PL: dict[str, tuple[str, str, str, str]] = {
    "°C": ("stopień Celsjusza", "stopnie Celsjusza", "stopni Celsjusza", "stopnia Celsjusza"),
    "℃": ("stopień Celsjusza", "stopnie Celsjusza", "stopni Celsjusza", "stopnia Celsjusza"),
    "°F": ("stopień Fahrenheita", "stopnie Fahrenheita", "stopni Fahrenheita", "stopnia Fahrenheita"),
    "℉": ("stopień Fahrenheita", "stopnie Fahrenheita", "stopni Fahrenheita", "stopnia Fahrenheita"),
    "°": ("stopień", "stopnie", "stopni", "stopnia"),
    "km/h": (
        "kilometr na godzinę",
        "kilometry na godzinę",
        "kilometrów na godzinę",
        "kilometra na godzinę",
    ),
    "m/s": ("metr na sekundę", "metry na sekundę", "metrów na sekundę", "metra na sekundę"),
    "kWh": ("kilowatogodzina", "kilowatogodziny", "kilowatogodzin", "kilowatogodziny"),
    "kW": ("kilowat", "kilowaty", "kilowatów", "kilowata"),
    "W": ("wat", "waty", "watów", "wata"),
    "km": ("kilometr", "kilometry", "kilometrów", "kilometra"),
    "cm": ("centymetr", "centymetry", "centymetrów", "centymetra"),
    "mm": ("milimetr", "milimetry", "milimetrów", "milimetra"),
    "m": ("metr", "metry", "metrów", "metra"),
    "kg": ("kilogram", "kilogramy", "kilogramów", "kilograma"),
    "mg": ("miligram", "miligramy", "miligramów", "miligrama"),
    "g": ("gram", "gramy", "gramów", "grama"),
    "ml": ("mililitr", "mililitry", "mililitrów", "mililitra"),
    "l": ("litr", "litry", "litrów", "litra"),
    "L": ("litr", "litry", "litrów", "litra"),
    "GB": ("gigabajt", "gigabajty", "gigabajtów", "gigabajta"),
    "MB": ("megabajt", "megabajty", "megabajtów", "megabajta"),
    "hPa": ("hektopaskal", "hektopaskale", "hektopaskali", "hektopaskala"),
    "%": ("procent", "procent", "procent", "procent"),
    "zł": ("złoty", "złote", "złotych", "złotego"),
}

# The prepositions after which an hour takes "-ej" (locative or genitive): "o ósmej", "do siedemnastej".
_PREPOSITION = re.compile(r"(?:^|\s)(?:o|od|do|po|około|ok\.)\s+(?:godz(?:inie|iny|\.)\s+)?$", re.IGNORECASE)

_MONTHS_GENITIVE = (
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
)


def cardinal(value: Decimal | int) -> str:
    """A number in words, decimals after "przecinek" ("2,5" → "dwa przecinek pięć"), negatives after "minus"."""
    if value < 0:
        return "minus " + cardinal(-value)
    return str(num2words(value, lang="pl"))


def plural_form(value: Decimal | int) -> int:
    """Which of a unit's four forms follows `value`: 0 after 1, 1 after 2–4 (not 12–14), 2 otherwise, 3 after a
    fraction."""
    size = Decimal(value).copy_abs()
    if size != int(size):
        return 3
    whole = int(size)
    if whole == 1:
        return 0
    if 2 <= whole % 10 <= 4 and not 12 <= whole % 100 <= 14:
        return 1
    return 2


def with_unit(value: Decimal, unit: str) -> str:
    """`value` in words followed by `unit` in the form that number takes ("5 km" → "pięć kilometrów")."""
    return f"{cardinal(value)} {UNITS_PL[unit][plural_form(value)]}"


def _feminine(ordinal: str) -> str:
    """ "siedemnasty" → "siedemnasta", "drugi" → "druga", "trzeci" → "trzecia": hours are feminine."""
    words = []
    for word in ordinal.split():
        if word.endswith("ci"):
            word += "a"
        elif word.endswith(("gi", "ki", "y")):
            word = word[:-1] + "a"
        words.append(word)
    return " ".join(words)


def _genitive(ordinal: str) -> str:
    """ "ósmy" → "ósmego", "drugi" → "drugiego": a day of the month, and the year, in the genitive."""
    words = []
    for word in ordinal.split():
        if word.endswith("y"):
            word = word[:-1] + "ego"
        elif word.endswith("i"):
            word += "ego"
        words.append(word)
    return " ".join(words)


def time(hour: int, minute: int, before: str = "") -> str:
    """ "17:30" → "siedemnasta trzydzieści", "8:05" → "ósma zero pięć", "0:15" → "zero piętnaście"; after
    "o", "od", "do", "po" (`before` is the text before the time) the hour is in their case: "o siedemnastej"."""
    spoken_hour = "zero" if hour == 0 else _feminine(str(num2words(hour, lang="pl", to="ordinal")))
    if _PREPOSITION.search(before):
        spoken_hour = " ".join(
            word[:-1] + "ej" if word.endswith("a") else word for word in spoken_hour.split()
        )
    if minute == 0:
        return spoken_hour
    minutes = cardinal(minute) if minute >= 10 else f"zero {cardinal(minute)}"
    return f"{spoken_hour} {minutes}"


def date(year: int, month: int, day: int) -> str:
    """ "2026-12-08" → "ósmego grudnia dwa tysiące dwudziestego szóstego roku"."""
    spoken_day = _genitive(str(num2words(day, lang="pl", to="ordinal")))
    spoken_year = _genitive(str(num2words(year, lang="pl", to="ordinal")))
    return f"{spoken_day} {_MONTHS_GENITIVE[month - 1]} {spoken_year} roku"


# currency symbol → (its unit's three forms, its hundredth's three forms), as `plural_form` picks them
_CURRENCIES_PL: dict[str, tuple[tuple[str, str, str], tuple[str, str, str]]] = {
    "zł": (("złoty", "złote", "złotych"), ("grosz", "grosze", "groszy")),
    "€": (("euro", "euro", "euro"), ("cent", "centy", "centów")),
    "$": (("dolar", "dolary", "dolarów"), ("cent", "centy", "centów")),
    "£": (("funt", "funty", "funtów"), ("pens", "pensy", "pensów")),
    "¥": (("jen", "jeny", "jenów"), ("sen", "seny", "senów")),
}


def money(symbol: str, value: Decimal) -> str:
    """ "12,50 zł" → "dwanaście złotych pięćdziesiąt groszy", "1 €" → "jeden euro"."""
    units, hundredths = _CURRENCIES_PL[symbol]
    sign = "minus " if value < 0 else ""
    value = abs(value)
    whole = int(value)
    cents = int((value - whole) * 100)
    parts = []
    if whole or not cents:
        parts.append(f"{cardinal(whole)} {units[plural_form(whole)]}")
    if cents:
        parts.append(f"{cardinal(cents)} {hundredths[plural_form(cents)]}")
    return sign + " ".join(parts)
