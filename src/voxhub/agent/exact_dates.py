"""Exact date answers for the exact solver, from the server's local date: days until, weekdays, dates ahead.

"how many days until Christmas", "what day is it", "what's the date in 10 days", "what day of the week is
July 4th". Holidays are the fixed-date ones everyone agrees on; a movable feast (Easter) or a named day
this module does not know is left to the language model.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from voxhub.agent.exact import ExactAnswer, strip_filler

_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_ABBREVIATIONS = {name[:3]: index for index, name in enumerate(_MONTHS, 1)} | {"sept": 9}
_HOLIDAYS: dict[str, tuple[int, int, str]] = {
    "christmas": (12, 25, "Christmas"),
    "christmas day": (12, 25, "Christmas"),
    "xmas": (12, 25, "Christmas"),
    "christmas eve": (12, 24, "Christmas Eve"),
    "boxing day": (12, 26, "Boxing Day"),
    "new year's eve": (12, 31, "New Year's Eve"),
    "new years eve": (12, 31, "New Year's Eve"),
    "new year": (1, 1, "New Year's Day"),
    "new year's": (1, 1, "New Year's Day"),
    "new years": (1, 1, "New Year's Day"),
    "new year's day": (1, 1, "New Year's Day"),
    "new years day": (1, 1, "New Year's Day"),
    "the new year": (1, 1, "New Year's Day"),
    "valentine's day": (2, 14, "Valentine's Day"),
    "valentines day": (2, 14, "Valentine's Day"),
    "valentine's": (2, 14, "Valentine's Day"),
    "halloween": (10, 31, "Halloween"),
    "st patrick's day": (3, 17, "St Patrick's Day"),
    "saint patrick's day": (3, 17, "St Patrick's Day"),
    "st patricks day": (3, 17, "St Patrick's Day"),
    "independence day": (7, 4, "Independence Day"),
    "the fourth of july": (7, 4, "the Fourth of July"),
}
_MONTH_NAMES = "|".join((*_MONTHS, *sorted(_MONTH_ABBREVIATIONS, key=len, reverse=True)))
_CALENDAR_DAY = (
    rf"(?:(?P<month>{_MONTH_NAMES})\.? (?:the )?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"|(?:the )?(?P<day2>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?(?P<month2>{_MONTH_NAMES})\.?)"
    r"(?:,? (?P<year>\d{4}))?"
)
_HOLIDAY = (
    r"(?P<holiday>" + "|".join(re.escape(name) for name in sorted(_HOLIDAYS, key=len, reverse=True)) + r")"
)
_NAMED_DAY = rf"(?:{_HOLIDAY}(?: this year| (?P<holiday_year>\d{{4}}))?|{_CALENDAR_DAY})"
_SPAN = r"(?P<count>\d+|an?|one) (?P<step>days?|weeks?)"

_DAYS_UNTIL = re.compile(
    r"^(?:how many (?:more )?(?P<unit>days|weeks|sleeps) (?:are there |is it |are |is )?(?:left )?"
    r"(?:until|till|til|to|before|from now until|from today until) |how long (?:is it )?(?:until|till|to) )"
    rf"{_NAMED_DAY}$"
)
_WHAT_DAY = re.compile(
    r"^(?:what (?:day|date)(?: of the week)? (?:is|was|will be|falls on|does) |which day (?:is|will be) )"
    rf"{_NAMED_DAY}(?: (?:on|fall on|be))?$"
)
_TODAY = re.compile(
    r"^(?:what (?:day|date)(?: of the week)? (?:is it|is today|it is)(?: today)?|what is today(?:'s date)?"
    r"|what is the date(?: today)?|today's date|what is the day today|what day is today)$"
)
_TOMORROW = re.compile(
    r"^what (?:day|date)(?: of the week)? (?:is|was|will it be|will be|is it|was it) (?P<when>tomorrow|yesterday)$"
    r"|^what is the date (?P<when2>tomorrow|yesterday)$"
)
_WHAT_DATE = (
    r"^(?:what (?:day|date)(?: of the week)? (?:is it|will it be|is|will be|was it|was)"
    r"|what (?:is|was) the date|what will the date be)"
)
_IN_SPAN = re.compile(rf"{_WHAT_DATE} in {_SPAN}(?: from (?:now|today))?$")
_SPAN_FROM = re.compile(rf"{_WHAT_DATE} {_SPAN} (?P<direction>from (?:now|today)|ago)$")


def spoken_date(day: date) -> str:
    """Thursday, December 17, 2026."""
    return f"{day:%A, %B} {day.day}, {day.year}"


def solve_date(text: str, today: date) -> ExactAnswer | None:
    question = strip_filler(text, keep_question=True)
    if (match := _DAYS_UNTIL.match(question)) is not None:
        return _until(match, today)
    if (match := _WHAT_DAY.match(question)) is not None:
        found = _named_day(match, today)
        if found is None:
            return None
        day, name = found
        tense = "is" if day >= today else "was"
        if name:
            return ExactAnswer(f"{name} {tense} on {spoken_date(day)}.", "date")
        return ExactAnswer(f"{day:%B} {day.day}, {day.year} {tense} a {day:%A}.", "date")
    if _TODAY.match(question):
        return ExactAnswer(f"Today is {spoken_date(today)}.", "date")
    if (match := _TOMORROW.match(question)) is not None:
        when = match["when"] or match["when2"]
        if when == "tomorrow":
            return ExactAnswer(f"Tomorrow is {spoken_date(today + timedelta(days=1))}.", "date")
        return ExactAnswer(f"Yesterday was {spoken_date(today - timedelta(days=1))}.", "date")
    if (match := _IN_SPAN.match(question) or _SPAN_FROM.match(question)) is not None:
        return _ahead(match, today)
    return None


def _named_day(match: re.Match[str], today: date) -> tuple[date, str] | None:
    """The date a question names (the next one, if it gives no year), and its holiday name if any."""
    groups = match.groupdict()
    if groups.get("holiday"):
        month, day, name = _HOLIDAYS[groups["holiday"]]
        year_text = groups.get("holiday_year")
    else:
        month_text = groups["month"] or groups["month2"]
        month = _MONTHS.index(month_text) + 1 if month_text in _MONTHS else _MONTH_ABBREVIATIONS[month_text]
        day, name, year_text = int(groups["day"] or groups["day2"]), "", groups.get("year")
    try:
        if year_text:
            return date(int(year_text), month, day), name
        found = date(today.year, month, day)
        if found < today:
            found = date(today.year + 1, month, day)
        return found, name
    except ValueError:
        return None  # February 30th


def _until(match: re.Match[str], today: date) -> ExactAnswer | None:
    found = _named_day(match, today)
    if found is None:
        return None
    day, name = found
    label = name or f"{day:%B} {day.day}"
    if day.year != today.year and not name and match["year"]:
        label = f"{label}, {day.year}"
    days = (day - today).days
    if days < 0:
        return ExactAnswer(f"{label} was {-days} days ago.", "date")
    if days == 0:
        return ExactAnswer(f"{label} is today!", "date")
    if days == 1:
        return ExactAnswer(f"{label} is tomorrow.", "date")
    if match["unit"] == "weeks":
        weeks, rest = divmod(days, 7)
        span = f"{weeks} week{'s' if weeks != 1 else ''}"
        if rest:
            span += f" and {rest} day{'s' if rest != 1 else ''}"
        if not weeks:
            span = f"{rest} days"
        return ExactAnswer(f"{label} is {span} away.", "date")
    noun = "sleeps" if match["unit"] == "sleeps" else "days"
    return ExactAnswer(f"There are {days} {noun} until {label}.", "date")


def _ahead(match: re.Match[str], today: date) -> ExactAnswer | None:
    count = 1 if match["count"] in ("a", "an", "one") else int(match["count"])
    days = count * (7 if match["step"].startswith("week") else 1)
    if days > 365 * 100:
        return None
    span = f"{count} {match['step'].rstrip('s')}{'s' if count != 1 else ''}"
    if match.groupdict().get("direction") == "ago":
        return ExactAnswer(
            f"{span.capitalize()} ago was {spoken_date(today - timedelta(days=days))}.", "date"
        )
    return ExactAnswer(f"In {span} it will be {spoken_date(today + timedelta(days=days))}.", "date")
