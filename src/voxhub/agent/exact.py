"""Exact answers with no language model: arithmetic, percentages, unit and time conversions, dates.

`solve` reads a question in English words or digits ("what's seventeen times 23", "20% off $50", "how many
days until Christmas") and answers it in one short spoken sentence ("17 times 23 is 391."). A question it does
not read whole, with certainty, gets None and goes to the language model: it never guesses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from voxhub.agent.numbers_words import spoken_numbers_to_digits

MAX_INTEGER_DIGITS = 15  # past this an answer is said as "about 1.27 times 10 to the power of 30"
MAX_EXPONENT = 1000
MAX_RESULT_BITS = 4096  # an exact power larger than this is not worth saying


@dataclass(frozen=True, slots=True)
class ExactAnswer:
    """The sentence to say, and what kind of question it answered ("arithmetic", "conversion", "date")."""

    text: str
    kind: str


Solver = Callable[[str, date], ExactAnswer | None]

NUMBER = r"-?\d+(?:\.\d+)?"
_FILLER_START = re.compile(
    r"^(?:(?:hey|hi|ok|okay|so|um|uh|quick question)[, ]+)*"
    r"(?:(?:please|can you|could you|would you|will you|do you know)\s+)*"
    r"(?:(?:tell me|calculate|compute|work out|figure out|solve|evaluate|convert)\s+)?"
)
_QUESTION_START = re.compile(r"^(?:what is|what are|whats|how much is|how much are)\s+")
_FILLER_END = re.compile(r"(?:[ ,]+(?:please|for me|exactly|then))+$")
_EQUALS_END = re.compile(r"\s*(?:=|equals?|is equal to|makes|is what|equals what|is)\s*$")


def normalise(text: str) -> str:
    """Lower case, spoken numbers as digits, `what's` as `what is`, no closing punctuation."""
    text = text.strip().casefold().replace("’", "'")
    text = re.sub(r"(\d),(?=\d{3}\b)", r"\1", text)  # 1,000 → 1000
    text = re.sub(r"[?!]+|\.+$|\.(?=\s)", " ", text)
    text = text.replace("what's", "what is").replace("what're", "what are").replace("how's", "how is")
    text = spoken_numbers_to_digits(text)
    return re.sub(r"\s+", " ", text).strip(" ,")


def strip_filler(text: str, *, keep_question: bool = False) -> str:
    """The question without "please", "can you tell me", "what is" (unless `keep_question`) and "equals"."""
    text = _FILLER_START.sub("", text)
    text = _FILLER_END.sub("", text)
    if keep_question:
        return text.strip()
    text = _QUESTION_START.sub("", text)
    return _EQUALS_END.sub("", text).strip()


def solve(text: str, today: date, *, solvers: tuple[Solver, ...] | None = None) -> ExactAnswer | None:
    """The exact answer to `text` (English), or None when it is not a question this module reads whole."""
    if not text or len(text) > 200:
        return None
    normalised = normalise(text)
    if not re.search(r"\d|square root|cube root|how many|days? until|what day|date|percent", normalised):
        return None
    from voxhub.agent.exact_dates import solve_date
    from voxhub.agent.exact_percent import solve_percentage
    from voxhub.agent.exact_units import solve_conversion

    for solver in solvers or (solve_date, solve_conversion, solve_percentage, solve_arithmetic):
        answer = solver(normalised, today)
        if answer is not None:
            return answer
    return None


# --- numbers as they are said back ----------------------------------------------------------------------


def parse_number(text: str) -> Fraction:
    return Fraction(Decimal(text))


def say_number(value: Fraction, *, significant: int = 3) -> tuple[str, bool]:
    """`value` written to read well aloud, and whether that is exact (else the caller says "about").

    Whole numbers in full with thousands separators; terminating decimals of up to 4 places as they are;
    anything else to `significant` figures (never fewer than its whole part): 10/3 → 3.33, 1609.344 → 1,609.
    """
    if value.denominator == 1 and len(str(abs(value.numerator))) <= MAX_INTEGER_DIGITS:
        return f"{value.numerator:,}", True
    magnitude = abs(value)
    if magnitude >= 10**MAX_INTEGER_DIGITS or (0 < magnitude < Fraction(1, 10**6)):
        exponent = math.floor(math.log10(magnitude))
        mantissa = float(value / Fraction(10) ** exponent)
        return f"{mantissa:.3g} times 10 to the power of {exponent}", False
    for places in range(0, 5):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return _decimal(value, places), True
    whole_digits = len(str(int(magnitude))) if magnitude >= 1 else 0
    if magnitude >= 1:
        places = max(0, significant - whole_digits)
    else:
        places = significant - 1 - math.floor(math.log10(magnitude))
    rounded = round(value, places)
    if rounded == 0:
        return "0", False
    return _decimal(Fraction(rounded), places), False


def _decimal(value: Fraction, places: int) -> str:
    text = f"{Decimal(value.numerator) / Decimal(value.denominator):,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def said(value: Fraction, *, prefix: str = "") -> str:
    """`value` as spoken in an answer: "391", "about 3.33"; `prefix` goes after "about" ("$")."""
    text, exact = say_number(value)
    if text.startswith("-") and prefix:
        text, prefix = text[1:], f"-{prefix}"
    return f"{prefix}{text}" if exact else f"about {prefix}{text}"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def as_given(text: str) -> str:
    """A number the user said, written back as digits ("1000" → "1,000")."""
    return said(parse_number(text))


# --- arithmetic ----------------------------------------------------------------------------------------

_OPERATOR_WORDS: tuple[tuple[str, str], ...] = (
    (r"raised to the power of|to the power of|raised to the|raised to|to the", "^"),
    (r"multiplied by|times|x|\*|×", "*"),
    (r"divided by|over|/|÷", "/"),
    (r"plus|\+", "+"),
    (r"minus|take away|-|−", "-"),
    (r"squared", "squared"),
    (r"cubed", "cubed"),
    (r"(?:the )?square root of|sqrt of|sqrt|√", "sqrt"),
    (r"(?:the )?cube root of", "cbrt"),
    (r"negative", "neg"),
    (r"power", "power"),  # "to the 3rd power"
)
_ARITHMETIC_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)(?P<power>st|nd|rd|th)?|(?P<paren>[()])|"
    + "|".join(f"(?P<op{i}>(?:{words})(?![a-z]))" for i, (words, _) in enumerate(_OPERATOR_WORDS))
    + r"|(?P<symbol>[-+*/×÷^−√]))"
)
_SYMBOLS = {"+": "+", "-": "-", "−": "-", "*": "*", "×": "*", "/": "/", "÷": "/", "^": "^", "√": "sqrt"}
_SAID = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}


class _Unsure(Exception):
    """The question is not arithmetic this parser reads with certainty."""


@dataclass(frozen=True, slots=True)
class _Node:
    value: Fraction | float
    said: str
    operators: int  # how many operations it holds (a lone number is not a calculation)
    level: int = 9  # 1 sums, 2 products, 3 powers, 9 numbers and roots: said in brackets under a higher one

    def within(self, level: int) -> str:
        return f"({self.said})" if self.level < level else self.said


def _joined(op: str, left: _Node, right: _Node, level: int) -> _Node:
    """`left op right`; the right side in brackets at its own level too (2 minus (3 minus 1))."""
    text = f"{left.within(level)} {_SAID[op]} {right.within(level + 1)}"
    return _Node(_apply(op, left.value, right.value), text, left.operators + right.operators + 1, level)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    at = 0
    while at < len(text):
        match = _ARITHMETIC_TOKEN.match(text, at)
        if match is None or match.end() == at:
            if text[at:].strip() == "":
                break
            raise _Unsure(text[at:])
        at = match.end()
        if match["number"] is not None:
            if match["power"]:
                tokens.append(f"#{match['number']}")  # "to the 3rd" (power)
                continue
            tokens.append(match["number"])
        elif match["paren"]:
            tokens.append(match["paren"])
        elif match["symbol"]:
            tokens.append(_SYMBOLS[match["symbol"]])
        else:
            index = next(i for i in range(len(_OPERATOR_WORDS)) if match[f"op{i}"] is not None)
            token = _OPERATOR_WORDS[index][1]
            if token == "power":
                if not tokens or not tokens[-1].startswith("#"):
                    raise _Unsure("power")
                continue
            tokens.append(token)
    return tokens


class _Parser:
    """Recursive descent: + − over × ÷ over powers over roots and unary minus, parentheses first."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _Unsure("ends too soon")
        self.at += 1
        return token

    def expression(self) -> _Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = _joined(op, node, self.term(), 1)
        return node

    def term(self) -> _Node:
        node = self.power()
        while self.peek() in ("*", "/"):
            op = self.take()
            node = _joined(op, node, self.power(), 2)
        return node

    def power(self) -> _Node:
        node = self.unary()
        while self.peek() in ("^", "squared", "cubed"):
            op = self.take()
            if op == "^":
                exponent = self.take().lstrip("#")
                if not re.fullmatch(r"\d+(?:\.\d+)?", exponent):
                    raise _Unsure("a power of an expression")
                value = parse_number(exponent)
                text = f"{node.within(4)} to the power of {as_given(exponent)}"
            else:
                value = Fraction(2 if op == "squared" else 3)
                text = f"{node.within(4)} {op}"
            node = _Node(_power(node.value, value), text, node.operators + 1, 3)
        return node

    def unary(self) -> _Node:
        token = self.peek()
        if token in ("-", "neg"):
            self.take()
            inner = self.unary()
            return _Node(-inner.value, f"minus {inner.within(9)}", inner.operators, inner.level)
        if token in ("sqrt", "cbrt"):
            self.take()
            inner = self.unary()
            name = "square" if token == "sqrt" else "cube"
            root = _root(inner.value, 2 if token == "sqrt" else 3)
            return _Node(root, f"the {name} root of {inner.within(9)}", inner.operators + 1)
        return self.atom()

    def atom(self) -> _Node:
        token = self.take()
        if token == "(":
            inner = self.expression()
            if self.take() != ")":
                raise _Unsure("unbalanced parentheses")
            return inner
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return _Node(parse_number(token), as_given(token), 0)
        raise _Unsure(token)


class _DivisionByZero(Exception):
    pass


def _apply(op: str, left: Fraction | float, right: Fraction | float) -> Fraction | float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        raise _DivisionByZero
    return left / right


def _power(base: Fraction | float, exponent: Fraction) -> Fraction | float:
    if abs(exponent) > MAX_EXPONENT:
        raise _Unsure("too large a power")
    if exponent.denominator == 1:
        if base == 0 and exponent < 0:
            raise _DivisionByZero
        if isinstance(base, Fraction):
            bits = max(abs(base.numerator), base.denominator).bit_length()
            if bits * abs(exponent) > MAX_RESULT_BITS:
                raise _Unsure("too large a result")
            return Fraction(base**exponent.numerator)
        return float(base**exponent.numerator)
    if base < 0:
        raise _Unsure("a root of a negative number")
    return float(float(base) ** float(exponent))


def _root(value: Fraction | float, degree: int) -> Fraction | float:
    if value < 0 and degree == 2:
        raise _Unsure("the square root of a negative number")
    if isinstance(value, Fraction):
        roots = [_integer_root(part, degree) for part in (abs(value.numerator), value.denominator)]
        if roots[0] is not None and roots[1] is not None:
            return Fraction(roots[0], roots[1]) * (-1 if value < 0 else 1)
    magnitude = float(abs(float(value)) ** (1 / degree))
    return -magnitude if value < 0 else magnitude


def _integer_root(value: int, degree: int) -> int | None:
    guess = math.isqrt(value) if degree == 2 else round(value ** (1 / 3))
    for candidate in (guess - 1, guess, guess + 1):
        if candidate >= 0 and candidate**degree == value:
            return candidate
    return None


def solve_arithmetic(text: str, today: date) -> ExactAnswer | None:
    question = strip_filler(text)
    if not question or re.search(r"[a-z]", re.sub(r"\b(?:[a-z ]+)\b", _keep_operator_words, question)):
        return None
    if _DATE_OR_NAME.match(question):
        return None  # 9/11, 24/7, 12/25: a date or a name as often as a fraction
    try:
        tokens = _tokens(question)
        parser = _Parser(tokens)
        node = parser.expression()
        if parser.peek() is not None or node.operators == 0:
            return None
    except _DivisionByZero:
        return ExactAnswer("You can't divide by zero.", "arithmetic")
    except (_Unsure, OverflowError, ValueError, ZeroDivisionError):
        return None
    value = node.value if isinstance(node.value, Fraction) else _float_fraction(node.value)
    if value is None:
        return None
    return ExactAnswer(capitalised(f"{node.said} is {said(value)}."), "arithmetic")


def _float_fraction(value: float) -> Fraction | None:
    """A float result (a root, a fractional power) as a fraction: one that is not whole is said as "about"."""
    if not math.isfinite(value):
        return None
    return Fraction(value)


_DATE_OR_NAME = re.compile(r"^(?:[1-9]|[12]\d|3[01])/(?:[1-9]|[12]\d|3[01])$")
_OPERATOR_PHRASES = re.compile(
    r"(?:" + "|".join(words for words, _ in _OPERATOR_WORDS) + r"|st|nd|rd|th|power|of)(?![a-z])"
)


def _keep_operator_words(match: re.Match[str]) -> str:
    """Blank out the operator words, so any other word left over means this is not arithmetic."""
    return _OPERATOR_PHRASES.sub("", match.group(0))
