"""Numbers, units, times, dates and money as words, for text a voice will read aloud."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from num2words import CONVERTER_CLASSES, num2words

from voxhub.agent import numbers_pl

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# symbol → (singular, plural) in English; longest symbols first so "km/h" wins over "km"
_UNITS_EN: dict[str, tuple[str, str]] = {
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "℃": ("degree Celsius", "degrees Celsius"),
    "℉": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "km/h": ("kilometre per hour", "kilometres per hour"),
    "m/s": ("metre per second", "metres per second"),
    "mph": ("mile per hour", "miles per hour"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "kW": ("kilowatt", "kilowatts"),
    "W": ("watt", "watts"),
    "km": ("kilometre", "kilometres"),
    "cm": ("centimetre", "centimetres"),
    "mm": ("millimetre", "millimetres"),
    "m": ("metre", "metres"),
    "mi": ("mile", "miles"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "ml": ("millilitre", "millilitres"),
    "l": ("litre", "litres"),
    "L": ("litre", "litres"),
    "GB": ("gigabyte", "gigabytes"),
    "MB": ("megabyte", "megabytes"),
    "hPa": ("hectopascal", "hectopascals"),
    "%": ("percent", "percent"),
}

# symbol → (unit singular, plural, hundredth singular, plural) in English
_CURRENCIES_EN: dict[str, tuple[str, str, str, str]] = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "sen", "sen"),
}
_CURRENCY_CODES = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# Where a comma is the decimal mark ("2,5"): thousands apart by a space ("1 000"); a stop is read as a decimal
# mark too, as a language model writes "2.5" in any language.
_NUMBER_DECIMAL_COMMA = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)(?:,\d+)?|\d+(?:[,.]\d+)?"
DECIMAL_COMMA = frozenset(
    {"bg", "cs", "da", "de", "el", "es", "et", "fi", "fr", "hr", "hu", "id", "it", "lt", "lv", "nl", "no"}
    | {"pl", "pt", "ro", "ru", "sk", "sl", "sr", "sv", "tr", "uk", "vi"}
)
_UNIT_ALTERNATIVES = "|".join(
    re.escape(unit) for unit in sorted({*_UNITS_EN, *numbers_pl.UNITS_PL}, key=len, reverse=True)
)
_MERIDIEM = r"(?P<meridiem>(?i:[ap]\.?m\.?))(?![\w])"


def _token(number: str, not_after: str) -> re.Pattern[str]:
    """One pattern for every spoken token, most specific first; each is replaced whole or left untouched."""
    return re.compile(
        rf"""
        (?P<iso_date>\b(?P<iso_year>\d{{4}})-(?P<iso_month>\d{{2}})-(?P<iso_day>\d{{2}})\b)
      | (?P<slash_date>\b(?P<first>\d{{1,2}})/(?P<second>\d{{1,2}})/(?P<slash_year>\d{{4}})\b)
      | (?P<time>\b(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)\b(?!:\d)(?:\s?{_MERIDIEM})?)
      | (?P<hour_only>\b(?P<bare_hour>1[0-2]|0?[1-9])\s?(?P<bare_meridiem>(?i:[ap]\.?m\.?))(?![\w]))
      | (?P<money>(?P<currency>[$€£¥])\s?(?P<amount>{number})\b)
      | (?P<number>(?<![\w{not_after}])(?P<sign>[-−])?(?P<digits>{number})
            (?:(?P<ordinal>st|nd|rd|th)\b|\s?(?P<unit>{_UNIT_ALTERNATIVES})(?![\w/])
            |(?P<trailing_currency>\s?[€$£¥]))?)
        """,
        re.VERBOSE,
    )


TOKEN = _token(_NUMBER, ".")
TOKEN_DECIMAL_COMMA = _token(_NUMBER_DECIMAL_COMMA, ".,")
_YEAR_CONTEXT = re.compile(r"\b(?:in|since|until|by|from|of|year|before|after)\s+$", re.IGNORECASE)


def num2words_language(language: str) -> str | None:
    """The num2words code for a BCP-47-ish language tag ("en-GB" → "en"), or None if unsupported."""
    tag = language.replace("-", "_")
    if tag in CONVERTER_CLASSES:
        return tag
    base = tag.split("_")[0].lower()
    return base if base in CONVERTER_CLASSES else None


@dataclass(frozen=True, slots=True)
class NumberReader:
    """Reads the numeric tokens of one language aloud; English knows units, times, dates and money."""

    language: str  # a num2words code
    day_first: bool = False  # read an ambiguous 03/04/2026 as 3 April (else as March 4)

    @property
    def english(self) -> bool:
        return self.language.startswith("en")

    @property
    def polish(self) -> bool:
        return self.language == "pl"

    @property
    def decimal_comma(self) -> bool:
        return self.language.split("_")[0] in DECIMAL_COMMA

    def replace_all(self, text: str) -> str:
        return (TOKEN_DECIMAL_COMMA if self.decimal_comma else TOKEN).sub(self._replace, text)

    def cardinal(self, value: Decimal | int) -> str:
        if value < 0 and not self.english:  # num2words fails on some languages' negative decimals
            return f"minus {self.cardinal(-value)}"
        words = str(num2words(value, lang=self.language))
        return words.replace(",", "") if self.english else words

    def ordinal(self, value: int) -> str:
        return str(num2words(value, lang=self.language, to="ordinal"))

    def value(self, digits: str) -> Decimal:
        """The number written as `digits` ("1,234.5" in English, "1 234,5" or "2.5" where a comma is the
        decimal mark)."""
        if self.decimal_comma:
            return Decimal(re.sub(r"[ \u00a0\u202f]", "", digits).replace(",", "."))
        return Decimal(digits.replace(",", ""))

    def _replace(self, match: re.Match[str]) -> str:
        original = match.group(0)
        try:
            spoken = self._speak(match)
        except (NotImplementedError, InvalidOperation, OverflowError, ValueError, KeyError):
            return original
        if spoken is None:
            return original
        if spoken.endswith(".") and match.string.startswith(".", match.end()):
            return spoken[:-1]  # "at 3 p.m." then the sentence's own full stop
        return spoken

    def _speak(self, match: re.Match[str]) -> str | None:
        if match.group("iso_date"):
            return self._date(int(match["iso_year"]), int(match["iso_month"]), int(match["iso_day"]))
        if match.group("slash_date"):
            return self._slash_date(int(match["first"]), int(match["second"]), int(match["slash_year"]))
        if match.group("time"):
            if self.polish and match["meridiem"] is None:
                return numbers_pl.time(
                    int(match["hour"]), int(match["minute"]), match.string[: match.start()]
                )
            return self._time(int(match["hour"]), int(match["minute"]), match["meridiem"])
        if match.group("hour_only"):
            return self._time(int(match["bare_hour"]), 0, match["bare_meridiem"])
        if match.group("money"):
            return self._money(match["currency"], self.value(match["amount"]))
        if match.group("number"):
            return self._number(match)
        raise ValueError(match.group(0))

    def _number(self, match: re.Match[str]) -> str | None:
        digits = match["digits"]
        value = -self.value(digits) if match["sign"] is not None else self.value(digits)
        if match["trailing_currency"]:
            return self._money(match["trailing_currency"].strip(), value)
        if match["ordinal"]:
            if value != int(value) or value < 0:
                return None
            return self.ordinal(int(value)) if self.english else match.group(0)
        if (
            self.english
            and match["unit"] is None
            and 1100 <= value <= 2099
            and value == int(value)
            and "." not in digits
            and _YEAR_CONTEXT.search(match.string, 0, match.start())
        ):
            return str(num2words(int(value), lang="en", to="year"))
        unit = match["unit"]
        if self.polish and unit is not None:
            if unit == "zł":
                return numbers_pl.money("zł", value)
            return numbers_pl.with_unit(value, unit) if unit in numbers_pl.UNITS_PL else None
        words = self.cardinal(value)
        if unit is None:
            return words
        if not self.english:
            return f"{words} {unit}"
        if unit not in _UNITS_EN:
            return None
        singular, plural = _UNITS_EN[unit]
        return f"{words} {singular if value == 1 else plural}"

    def _time(self, hour: int, minute: int, meridiem: str | None) -> str | None:
        if not self.english:
            return None
        suffix = ""
        if meridiem:
            suffix = " a.m." if meridiem.lower().startswith("a") else " p.m."
        elif hour > 12 or hour == 0:
            suffix = " p.m." if hour >= 12 else " a.m."
            hour = hour - 12 if hour > 12 else 12
        if minute == 0:
            return self.cardinal(hour) + (suffix or " o'clock")
        minutes = self.cardinal(minute) if minute >= 10 else f"oh {self.cardinal(minute)}"
        return f"{self.cardinal(hour)} {minutes}{suffix}"

    def _date(self, year: int, month: int, day: int) -> str | None:
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        if self.polish:
            return numbers_pl.date(year, month, day)
        if not self.english:
            return None
        return f"{_MONTHS_EN[month - 1]} {self.ordinal(day)}, {num2words(year, lang='en', to='year')}"

    def _slash_date(self, first: int, second: int, year: int) -> str | None:
        if first > 12 or ((self.day_first or self.polish) and second <= 12):
            return self._date(year, second, first)
        return self._date(year, first, second)

    def _money(self, symbol: str, value: Decimal) -> str | None:
        if self.polish:
            return numbers_pl.money(symbol, value)
        if not self.english:
            words = num2words(value, lang=self.language, to="currency", currency=_CURRENCY_CODES[symbol])
            return str(words)
        unit, units, cent, cents = _CURRENCIES_EN[symbol]
        sign = "minus " if value < 0 else ""
        value = abs(value)
        whole = int(value)
        hundredths = int((value - whole) * 100)
        spoken = f"{sign}{self.cardinal(whole)} {unit if whole == 1 else units}"
        if hundredths:
            spoken += f" and {self.cardinal(hundredths)} {cent if hundredths == 1 else cents}"
        return spoken
