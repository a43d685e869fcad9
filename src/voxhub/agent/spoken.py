"""Turning an LLM's written answer into words a voice can read aloud: no markdown, emoji or URLs; numbers spoken."""

from __future__ import annotations

import re
from functools import lru_cache

from voxhub.agent.numbers import NumberReader, num2words_language

# Markdown, in the order it is taken apart: blocks first, then what sits inside lines.
_CODE_BLOCK = re.compile(r"^\s*(```|~~~)[^\n]*\n.*?^\s*\1[^\n]*$", re.MULTILINE | re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^>]+>")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$", re.MULTILINE)
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+", re.MULTILINE)
_TABLE_DIVIDER = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$", re.MULTILINE)
_TABLE_PIPE = re.compile(r"\s*\|\s*")
_INLINE_CODE = re.compile(r"`+([^`]*)`+")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_STRIKE = re.compile(r"~~(.+?)~~")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")

# Emoji and pictographs, with the joiners and selectors that glue them into one glyph.
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols and pictographs extended
    "\U0001f1e6-\U0001f1ff"  # flags (regional indicators)
    "\u2600-\u27bf"  # miscellaneous symbols, dingbats
    "\u2b00-\u2bff"  # arrows and stars used as emoji
    "\ufe0e\ufe0f\u200d\u20e3"  # text/emoji selectors, zero-width joiner, keycap
    "\U000e0020-\U000e007f"  # tag characters (subdivision flags)
    "]+"
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")
_ENDS_A_SENTENCE = re.compile(r"[.!?:;,…]$")

# What a bare URL becomes, per language; a link with text keeps only its text.
_A_LINK = {"en": "a link", "pl": "link", "de": "ein Link", "fr": "un lien", "es": "un enlace"}


def speakable(text: str, language: str = "en", *, day_first: bool = False) -> str:
    """`text` as a voice should say it, in `language`: plain sentences, numbers and symbols in words.

    English reads numbers, ordinals, units, percentages, times, dates and money. Other languages that
    num2words knows get their numbers read and keep the rest as written; unknown languages keep numbers.
    An ambiguous date such as 03/04/2026 is read month first unless `day_first`.
    """
    plain = strip_markup(text, language)
    reader = _reader(language, day_first)
    return plain if reader is None else reader.replace_all(plain)


def strip_markup(text: str, language: str = "en") -> str:
    """Markdown, HTML tags, emoji and URLs removed (code blocks too); list items and lines become sentences."""
    if not text:
        return text
    text = _CODE_BLOCK.sub("", text)  # code is for reading, not for hearing
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(_a_link(language), text)
    text = _URL.sub(_a_link(language), text)
    text = _HTML_TAG.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub(r"\1", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub("", text)
    text = _TABLE_DIVIDER.sub("", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EMOJI.sub("", text)
    return _join_lines(text)


def _join_lines(text: str) -> str:
    """One line per sentence: a line (a heading, a list item, a table row) without an ending gets a full stop."""
    lines = [_SPACES.sub(" ", _TABLE_PIPE.sub(", ", line.strip(" |"))).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1:
        lines = [line if _ENDS_A_SENTENCE.search(line) else f"{line}." for line in lines]
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(lines))


def _a_link(language: str) -> str:
    return _A_LINK.get(language.split("-")[0].split("_")[0].lower(), "")


@lru_cache(maxsize=64)
def _reader(language: str, day_first: bool) -> NumberReader | None:
    code = num2words_language(language)
    return None if code is None else NumberReader(code, day_first=day_first)
