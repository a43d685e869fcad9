"""A guard on a streamed answer: it holds back what may be the start of a loop and stops one for good.

Small models fall into loops ("a person who is a person who is...", "7,987,987,987,...") and would talk
until the token cap. The guard lets text through word by word, but holds back the words that repeat what
was already said; once the repeat is certainly a loop it drops them and says stop, so only the clean part
reaches the listener (and the history).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class LoopRules:
    """When repeating is a loop. Normal answers repeat two or three words at a time, never these."""

    verbatim_words: int = 10  # this many words in a row, said again word for word
    phrase_words: int = 5  # ...or a phrase of this many words, said a third time
    number_digits: int = 16  # a "number" this long is digits running away
    word_chars: int = 48  # a "word" this long (no space) that repeats a short unit 3 times
    unit_chars: int = 16


class RepetitionGuard:
    """Feed it the pieces as they stream; it returns what may be shown, until `looped` says stop."""

    def __init__(self, rules: LoopRules | None = None) -> None:
        self.rules = rules or LoopRules()
        self.looped = False
        self._text = ""
        self._released = 0  # characters of `_text` already returned
        self._words: list[str] = []  # the finished words, lower-cased
        self._starts: list[int] = []  # where each finished word starts in `_text`
        self._scanned = 0  # characters of `_text` already split into words

    @property
    def text(self) -> str:
        """The answer as it stands: everything returned so far (and, before a loop, what is held)."""
        return self._text

    def push(self, piece: str) -> str:
        """The newly cleared text after `piece` ("" while held); after a loop is found, always ""."""
        if self.looped or not piece:
            return ""
        self._text += piece
        self._split_words()
        hold = self._held_from()
        if self.looped:
            self._text = self._text[: max(hold, self._released)]
            return self._release(len(self._text))
        return self._release(hold)

    def flush(self) -> str:
        """The answer ended on its own: whatever is still held is clean."""
        return "" if self.looped else self._release(len(self._text))

    def _release(self, upto: int) -> str:
        upto = max(upto, self._released)
        cleared, self._released = self._text[self._released : upto], upto
        return cleared

    def _split_words(self) -> None:
        """Add the words that a following space has finished."""
        text = self._text
        position = self._scanned
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            end = _SPACE.search(text, position)
            if end is None:
                break
            self._starts.append(position)
            self._words.append(text[position : end.start()].lower())
            position = end.start()
        self._scanned = position

    def _held_from(self) -> int:
        """Where the held text starts: the unfinished last word, and the finished words that repeat.

        Sets `looped` (the text is then cut at the returned position) when the repeat is a loop.
        """
        hold = self._scanned  # the unfinished word is always held: it may be a number still growing
        if self._runaway_word(self._text[hold:]):
            self.looped = True
            return hold + _first_group(self._text[hold:])
        repeat, thirds = self._repeated_suffix()
        if repeat and (repeat >= self.rules.verbatim_words or thirds >= 2):
            self.looped = True
        if repeat:
            hold = self._starts[len(self._words) - repeat]
        return hold

    def _repeated_suffix(self) -> tuple[int, int]:
        """How many of the last words were said before in that order (the longest such run), and how many
        times the last `phrase_words` words were already said."""
        words = self._words
        count = len(words)
        longest = earlier_phrases = 0
        phrase = self.rules.phrase_words
        for end in range(count - 2, -1, -1):  # an earlier word that may end the same run
            run = 0
            while run <= end and words[end - run] == words[count - 1 - run]:
                run += 1
            longest = max(longest, run)
            earlier_phrases += run >= phrase
        return longest, earlier_phrases

    def _runaway_word(self, word: str) -> bool:
        rules = self.rules
        if len(_DIGIT.findall(word)) >= rules.number_digits:
            return True
        if len(word) < rules.word_chars:
            return False
        return any(_periodic_tail(word, unit) >= 3 * unit for unit in range(1, rules.unit_chars + 1))


def _periodic_tail(text: str, unit: int) -> int:
    """How long the end of `text` is that repeats a `unit`-character pattern."""
    run = 0
    while run + unit < len(text) and text[-1 - run] == text[-1 - run - unit]:
        run += 1
    return run + unit


def _first_group(word: str) -> int:
    """How much of a runaway word to keep: a number's first digit group ("7,987,987..." keeps "7")."""
    match = re.match(r"\d+", word)
    return match.end() if match else 0
