"""Cut a stream of LLM text into sentences, so speech can start before the answer is finished."""

from __future__ import annotations

import re

from voxhub.language import language_code

# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by white space; a newline ends one too.
_BOUNDARY = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+|\n+")
_CLAUSE = re.compile(r"([,;:]|\s[—–-])\s+")
# Each language's abbreviations written with a full stop that does not end the sentence (lower case, without
# their last stop). Letters with stops between them ("U.S.", "e.g.", "a.m.") are abbreviations in any language.
_ABBREVIATIONS: dict[str, frozenset[str]] = {
    "en": frozenset(
        {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "approx", "no", "nr", "fig", "mt"}
    ),
    "pl": frozenset(
        {
            *("np", "ok", "itp", "itd", "tzn", "tj", "tzw", "godz", "ul", "al", "nr", "dr", "prof", "mgr"),
            *("inż", "tel", "wg", "ww", "jw", "zob", "por", "tys", "mln", "mld", "pkt", "św", "ks", "płk"),
            *("gen", "im", "ang", "łac", "m.in", "pn", "pd", "wsch", "zach", "woj", "pow", "gm", "os", "ew"),
        }
    ),
}
# Of these, the ones that also end sentences ("and so on."): a boundary only when a capital letter follows.
_MAY_END = frozenset({"etc", "itp", "itd"})
_LETTERS_WITH_STOPS = re.compile(r"(?:\w\.)+\w")


class SentenceSplitter:
    """Feed text deltas; get back each sentence once it is complete. `flush()` returns the rest.

    With `first_clause_words`, the very first piece may end at a clause (a comma, colon, semicolon or dash)
    once it has that many words, so speech can start before the first sentence is written.
    """

    def __init__(
        self, *, min_chars: int = 2, first_clause_words: int = 0, language: str | None = None
    ) -> None:
        self._pending = ""
        self._min_chars = min_chars
        self._first_clause_words = first_clause_words
        self._abbreviations = _ABBREVIATIONS.get(language_code(language or "en"), _ABBREVIATIONS["en"])

    def push(self, delta: str) -> list[str]:
        self._pending += delta
        sentences: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._pending):
            candidate = self._pending[start : match.end()].strip()
            if match.group(1) and self._is_abbreviation(self._pending[start : match.end(1)], match.end()):
                continue
            if len(candidate) >= self._min_chars:
                sentences.append(candidate)
                start = match.end()
        self._pending = self._pending[start:]
        if sentences:
            self._first_clause_words = 0  # the first piece is out already
        elif self._first_clause_words:
            sentences = self._first_clause()
        return sentences

    def _first_clause(self) -> list[str]:
        for clause in _CLAUSE.finditer(self._pending):
            if len(self._pending[: clause.start()].split()) >= self._first_clause_words:
                self._first_clause_words = 0
                piece, self._pending = self._pending[: clause.end(1)].strip(), self._pending[clause.end() :]
                return [piece]
        return []

    def flush(self) -> list[str]:
        rest, self._pending = self._pending.strip(), ""
        self._first_clause_words = 0
        return [rest] if rest else []

    def _is_abbreviation(self, text: str, after: int) -> bool:
        """Whether `text` (the pending text up to a full stop) ends in an abbreviation, not a sentence; `after`
        is where the next word starts in the pending text."""
        if not text.endswith("."):
            return False
        words = text[:-1].rsplit(None, 1)
        if not words:
            return False
        last = words[-1].lower().lstrip("(\"'„“‘")
        if last in _MAY_END:
            # "etc. and" goes on, "etc. The" is a new sentence; unknown until the next word comes.
            following = self._pending[after : after + 1]
            return not following or not following.isupper()
        # "Dr." and "np." do not end a sentence, nor "U.S." or an initial as in "J. Smith".
        return (
            last in self._abbreviations
            or (len(last) == 1 and last.isalpha())
            or _LETTERS_WITH_STOPS.fullmatch(last) is not None
        )
