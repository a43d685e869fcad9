"""Spoken English numbers back to digits, for the exact solver (`voxhub.agent.exact`) to read questions."""

from __future__ import annotations

import re
from decimal import Decimal

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
