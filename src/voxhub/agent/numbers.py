"""Numbers, units, times, dates and money as words, for text a voice will read aloud."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from num2words import CONVERTER_CLASSES, num2words

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
_UNIT_ALTERNATIVES = "|".join(re.escape(unit) for unit in sorted(_UNITS_EN, key=len, reverse=True))
_MERIDIEM = r"(?P<meridiem>(?i:[ap]\.?m\.?))(?![\w])"

# One pattern for every spoken token, most specific first; each is replaced whole or left untouched.
TOKEN = re.compile(
    rf"""
    (?P<iso_date>\b(?P<iso_year>\d{{4}})-(?P<iso_month>\d{{2}})-(?P<iso_day>\d{{2}})\b)
  | (?P<slash_date>\b(?P<first>\d{{1,2}})/(?P<second>\d{{1,2}})/(?P<slash_year>\d{{4}})\b)
  | (?P<time>\b(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)\b(?!:\d)(?:\s?{_MERIDIEM})?)
  | (?P<hour_only>\b(?P<bare_hour>1[0-2]|0?[1-9])\s?(?P<bare_meridiem>(?i:[ap]\.?m\.?))(?![\w]))
  | (?P<money>(?P<currency>[$€£¥])\s?(?P<amount>{_NUMBER})\b)
  | (?P<number>(?<![\w.])(?P<sign>[-−])?(?P<digits>{_NUMBER})
        (?:(?P<ordinal>st|nd|rd|th)\b|\s?(?P<unit>{_UNIT_ALTERNATIVES})(?![\w/])|(?P<trailing_currency>\s?€))?)
    """,
    re.VERBOSE,
)
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

    def replace_all(self, text: str) -> str:
        return TOKEN.sub(self._replace, text)

    def cardinal(self, value: Decimal | int) -> str:
        words = str(num2words(value, lang=self.language))
        return words.replace(",", "") if self.english else words

    def ordinal(self, value: int) -> str:
        return str(num2words(value, lang=self.language, to="ordinal"))

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
            return self._time(int(match["hour"]), int(match["minute"]), match["meridiem"])
        if match.group("hour_only"):
            return self._time(int(match["bare_hour"]), 0, match["bare_meridiem"])
        if match.group("money"):
            return self._money(match["currency"], match["amount"])
        if match.group("number"):
            return self._number(match)
        raise ValueError(match.group(0))

    def _number(self, match: re.Match[str]) -> str | None:
        digits = match["digits"].replace(",", "")
        negative = match["sign"] is not None
        if match["trailing_currency"]:
            return self._money("€", ("-" if negative else "") + digits)
        if match["ordinal"]:
            if "." in digits or negative:
                return None
            return self.ordinal(int(digits)) if self.english else match.group(0)
        value = Decimal(digits)
        if (
            self.english
            and not negative
            and match["unit"] is None
            and "." not in digits
            and 1100 <= value <= 2099
            and _YEAR_CONTEXT.search(match.string, 0, match.start())
        ):
            return str(num2words(int(value), lang="en", to="year"))
        words = self.cardinal(-value if negative else value)
        unit = match["unit"]
        if unit is None:
            return words
        if not self.english:
            return f"{words} {unit}"
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
        if not self.english or not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        return f"{_MONTHS_EN[month - 1]} {self.ordinal(day)}, {num2words(year, lang='en', to='year')}"

    def _slash_date(self, first: int, second: int, year: int) -> str | None:
        if first > 12 or (self.day_first and second <= 12):
            return self._date(year, second, first)
        return self._date(year, first, second)

    def _money(self, symbol: str, amount: str) -> str | None:
        value = Decimal(amount.replace(",", ""))
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


# English number words → digits, for the exact solver (`voxhub.agent.exact`) to read questions.
_UNITS_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS_WORDS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS_WORDS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALE_WORDS = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_WORD_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")
_JOINER = re.compile(r"[ \t]*-?[ \t]*")  # what may stand between the words of one number


def _small(word: str) -> int | None:
    return _UNITS_WORDS.get(word, _TEENS_WORDS.get(word, _TENS_WORDS.get(word)))


class _Run:
    """One spoken number being read word by word ("two hundred and five thousand and six")."""

    def __init__(self) -> None:
        self.total = 0
        self.current = 0
        self.last = ""  # "unit", "teen", "tens", "hundred", "scale"
        self.scale = 0  # the last scale word's value: the next must be smaller
        self.words = 0

    def takes(self, word: str) -> bool:
        """Whether `word` continues this number (then it is added)."""
        value = _small(word)
        if value is not None:
            kind = "unit" if value < 10 else "teen" if value < 20 else "tens"
            if self.last in ("unit", "teen") or (self.last == "tens" and kind != "unit"):
                return False
            self.current += value
            self.last = kind
        elif word == "hundred":
            if self.last == "hundred" or self.current >= 100:
                return False
            self.current = (self.current or 1) * 100
            self.last = "hundred"
        elif word in _SCALE_WORDS:
            scale = _SCALE_WORDS[word]
            if (self.scale and scale >= self.scale) or (self.last == "scale"):
                return False
            self.total += (self.current or 1) * scale
            self.current = 0
            self.scale = scale
            self.last = "scale"
        else:
            return False
        self.words += 1
        return True

    @property
    def value(self) -> int:
        return self.total + self.current


def spoken_numbers_to_digits(text: str) -> str:
    """`text` (lower case, English) with its number words as digits: "twenty-three point five" → "23.5".

    "a hundred", "one hundred and five", "2 million" and "twenty-fifth" (→ "25th") are read; anything that
    is not plainly one number ("nineteen eighty-four") stays as separate numbers. The rest is kept as is.
    """
    tokens = list(_WORD_TOKEN.finditer(text))
    out: list[str] = []
    written = 0  # text[:written] is in `out`
    index = 0
    while index < len(tokens):
        found = _read_number(text, tokens, index)
        if found is None:
            index += 1
            continue
        spoken, end = found
        out += [text[written : tokens[index].start()], spoken]
        written = tokens[end - 1].end()
        index = end
    out.append(text[written:])
    return "".join(out)


def _joined(text: str, tokens: list[re.Match[str]], index: int) -> bool:
    """Whether tokens `index - 1` and `index` are words of one number (a space or a hyphen between)."""
    between = text[tokens[index - 1].end() : tokens[index].start()]
    return bool(between) and _JOINER.fullmatch(between) is not None


def _read_number(text: str, tokens: list[re.Match[str]], index: int) -> tuple[str, int] | None:
    """The number starting at `tokens[index]` in digits, and the index after it; None if none starts there."""
    words = [token.group(0) for token in tokens]
    count = len(words)

    def joined(at: int) -> bool:
        return at < count and _joined(text, tokens, at)

    first = words[index]
    if re.fullmatch(r"\d+(?:\.\d+)?", first):
        if joined(index + 1) and words[index + 1] in _SCALE_WORDS:  # "2 million"
            return _digits(Decimal(first) * _SCALE_WORDS[words[index + 1]]), index + 2
        return None
    if first in _ORDINAL_WORDS and first != "second":  # "a second" is a time
        value = _ORDINAL_WORDS[first]
        return f"{value}{_ordinal_suffix(value)}", index + 1
    run = _Run()
    at = index
    if first in ("a", "an") and joined(index + 1) and words[index + 1] in ("hundred", *_SCALE_WORDS):
        at += 1  # "a hundred" = "one hundred"
    while at < count and (at == index or joined(at)):
        word = words[at]
        if word == "and" and run.last in ("hundred", "scale") and joined(at + 1):
            following = _small(words[at + 1])
            if following is not None and following < 100:
                at += 1
                continue
        if run.last == "tens" and word in _ORDINAL_WORDS and _ORDINAL_WORDS[word] < 10:
            value = run.value + _ORDINAL_WORDS[word]  # "twenty-fifth"
            return f"{value}{_ordinal_suffix(value)}", at + 1
        if not run.takes(word):
            break
        at += 1
    if not run.words:
        return None
    number = Decimal(run.value)
    if joined(at) and words[at] == "point" and joined(at + 1) and words[at + 1] in _UNITS_WORDS:
        at += 1
        decimals = ""
        while at < count and words[at] in _UNITS_WORDS and (not decimals or joined(at)):
            decimals += str(_UNITS_WORDS[words[at]])
            at += 1
        number = Decimal(f"{run.value}.{decimals}")
    return _digits(number), at


def _ordinal_suffix(value: int) -> str:
    if 10 <= value % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")


def _digits(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
