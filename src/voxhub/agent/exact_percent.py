"""Percentages for the exact solver: "15 percent of 80", "20% off $50", "12 is what percent of 48"."""

from __future__ import annotations

import re
from datetime import date
from fractions import Fraction

from voxhub.agent.exact import NUMBER, ExactAnswer, as_given, capitalised, parse_number, said, strip_filler

_MONEY = r"(?P<{name}_cur>[$€£])?(?P<{name}>" + NUMBER + r")"
_PERCENT = r"(?P<p>" + NUMBER + r")\s?(?:%|percent|per cent)"


def _money(name: str) -> str:
    return _MONEY.format(name=name)


_PERCENT_FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), form)
    for pattern, form in (
        (rf"^{_PERCENT} of {_money('x')}$", "of"),
        (rf"^(?:a |an )?{_PERCENT} (?:tip|tax|discount) (?:on|of|for) {_money('x')}$", "of"),
        (rf"^{_PERCENT} off (?:of )?{_money('x')}$", "off"),
        (rf"^{_money('x')} (?:with|at|less) {_PERCENT} off$", "off"),
        (rf"^{_money('x')} (?:minus|less) {_PERCENT}$", "minus"),
        (rf"^(?:decrease|reduce|lower) {_money('x')} by {_PERCENT}$", "minus"),
        (rf"^{_money('x')} (?:plus|with) {_PERCENT}$", "plus"),
        (rf"^(?:increase|raise) {_money('x')} by {_PERCENT}$", "plus"),
        (rf"^{_money('y')} is what (?:percent|percentage) of {_money('x')}$", "ratio"),
        (rf"^what (?:percent|percentage) of {_money('x')} is {_money('y')}$", "ratio"),
    )
)


def solve_percentage(text: str, today: date) -> ExactAnswer | None:
    question = strip_filler(text)
    for pattern, form in _PERCENT_FORMS:
        match = pattern.match(question)
        if match is None:
            continue
        groups = match.groupdict()
        currency = groups.get("x_cur") or ""
        base = parse_number(match["x"])
        if form == "ratio":
            if base == 0:
                return ExactAnswer("A percentage of zero isn't defined.", "arithmetic")
            part = parse_number(match["y"])
            share = said(part / base * 100)
            return ExactAnswer(
                f"{currency}{as_given(match['y'])} is {share} percent of {currency}{as_given(match['x'])}.",
                "arithmetic",
            )
        rate = parse_number(match["p"])
        amount = f"{currency}{as_given(match['x'])}"
        percent = f"{as_given(match['p'])} percent"
        if form == "of":
            result, sentence = base * rate / 100, f"{percent} of {amount} is {{}}."
        elif form in ("off", "minus"):
            joiner = "with" if form == "off" else "minus"
            tail = " off" if form == "off" else ""
            result, sentence = base * (100 - rate) / 100, f"{amount} {joiner} {percent}{tail} is {{}}."
        else:
            result, sentence = base * (100 + rate) / 100, f"{amount} plus {percent} is {{}}."
        spoken = _money_said(result, currency) if currency else said(result)
        return ExactAnswer(capitalised(sentence.format(spoken)), "arithmetic")
    return None


def _money_said(value: Fraction, currency: str) -> str:
    """Money to the cent, as a till rounds it."""
    cents = round(value * 100)
    text = f"{currency}{abs(cents) / 100:,.2f}".removesuffix(".00")
    return f"-{text}" if cents < 0 else text
