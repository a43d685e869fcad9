"""Internal instructions never reach the user: a sentence of the answer that echoes one is dropped.

The brain gives the LLM notes the user must not hear (how they sound, the header of what is remembered
about them, the summary of older turns). A small model sometimes answers by reading such a note back
("The user sounds happy: answer in a fitting tone."). `EchoFilter` sits on the answer's text stream: it
holds back the first words of each sentence until it can tell whether they begin an internal note, drops
that sentence if they do, and lets everything else through as it comes. What is dropped is neither spoken
nor kept in history, because history keeps only the words that went out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Enough words to tell an echo from an answer that happens to start the same way ("The user ...").
PROBE_WORDS = 3

_CLAUSE_END = re.compile(r"[.:;!?\n]")
_SENTENCE_END = re.compile(r"[.!?\n]+")
_WORD = re.compile(r"[\w']+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in _WORD.findall(text))


def _openings(notes: Iterable[str]) -> frozenset[tuple[str, ...]]:
    """The first words of every clause of every note: what an echo would begin with."""
    found: set[tuple[str, ...]] = set()
    for note in notes:
        for clause in _CLAUSE_END.split(note):
            words = _words(clause)
            if len(words) >= PROBE_WORDS:
                found.add(words[:PROBE_WORDS])
    return frozenset(found)


@dataclass
class EchoFilter:
    """Feed it the answer's text as it streams; it returns what may go out now."""

    notes: tuple[str, ...]
    _openings: frozenset[tuple[str, ...]] = field(init=False)
    _held: str = ""  # the start of a sentence not yet judged
    _judged: bool = False  # this sentence was judged an answer: it streams through
    _dropping: bool = False  # this sentence was judged an echo: it goes nowhere
    _after_drop: bool = False  # the space after a dropped sentence may arrive with the next piece
    dropped: list[str] = field(default_factory=list)  # the echoed sentences, for the log

    def __post_init__(self) -> None:
        self._openings = _openings(self.notes)

    def feed(self, text: str) -> str:
        if not self._openings:
            return text
        out: list[str] = []
        while text:
            end = _SENTENCE_END.search(text)
            if end is None:
                out.append(self._within(text))
                break
            # Whatever ends the sentence (and the space after it) belongs to it.
            cut = end.end()
            while cut < len(text) and text[cut] == " ":
                cut += 1
            out.append(self._within(text[:cut], ends=True))
            text = text[cut:]
        return "".join(out)

    def flush(self) -> str:
        """The end of the answer: a held start that never grew long enough goes out as it is."""
        held = "" if self._dropping else self._held
        self._reset()
        if held and _words(held)[:PROBE_WORDS] in self._openings:
            self.dropped.append(held)
            return ""
        return held

    def _within(self, piece: str, *, ends: bool = False) -> str:
        """A piece of one sentence (`ends`: the piece that finishes it)."""
        if self._dropping:
            self._held += piece
            if ends:
                self.dropped.append(self._held.strip())
                self._reset()
                self._after_drop = True
            return ""
        if self._judged:
            if ends:
                self._reset()
            return piece
        if self._after_drop and not self._held:
            piece = piece.lstrip(" ")
            self._after_drop = not piece
        self._held += piece
        words = _words(self._held)
        if not ends and words and (self._held[-1].isalnum() or self._held[-1] == "'"):
            words = words[:-1]  # the last word may not be whole yet
        if len(words) < PROBE_WORDS and not ends:
            return ""
        if tuple(words[:PROBE_WORDS]) in self._openings:
            self._dropping = True
            return self._within("", ends=ends)
        released, self._held = self._held, ""
        self._judged = not ends
        return released

    def _reset(self) -> None:
        self._held, self._judged, self._dropping = "", False, False
