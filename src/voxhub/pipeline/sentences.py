"""Cut a stream of LLM text into sentences, so speech can start before the answer is finished."""

from __future__ import annotations

import re

# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by white space; a newline ends one too.
_BOUNDARY = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+|\n+")
_CLAUSE = re.compile(r"([,;:]|\s[—–-])\s+")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "nr"}
)


class SentenceSplitter:
    """Feed text deltas; get back each sentence once it is complete. `flush()` returns the rest.

    With `first_clause_words`, the very first piece may end at a clause (a comma, colon, semicolon or dash)
    once it has that many words, so speech can start before the first sentence is written.
    """

    def __init__(self, *, min_chars: int = 2, first_clause_words: int = 0) -> None:
        self._pending = ""
        self._min_chars = min_chars
        self._first_clause_words = first_clause_words

    def push(self, delta: str) -> list[str]:
        self._pending += delta
        sentences: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._pending):
            candidate = self._pending[start : match.end()].strip()
            if match.group(1) and self._is_abbreviation(self._pending[start : match.end(1)]):
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

    @staticmethod
    def _is_abbreviation(text: str) -> bool:
        words = text.rstrip(".").rsplit(None, 1)
        if not words:
            return False
        last = words[-1].lower()
        # "Dr." and "e.g." do not end a sentence, nor does an initial as in "J. Smith".
        return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())
