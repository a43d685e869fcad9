"""An answer the token budget cuts ends cleanly: the unfinished last sentence is not said as if complete.

At the cap (`finish_reason: length`) the model stops wherever the budget runs out, often mid-word. Near the
end of the budget the text after the last full sentence is held back; when the cap cuts, that fragment is
dropped, so the listener hears (and history keeps) only whole sentences. An answer with no whole sentence
to fall back on keeps its words and ends with an ellipsis. Text well before the budget's end streams at
once, as before: the first sentence is never delayed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CUT = "length"
ANSWER_CUT = "answer_cut"  # the notice's kind: the budget cut the answer; `dropped` is what was not said
TAIL_TOKENS = 48  # in the budget's last this many tokens, text waits for its sentence to end
ELLIPSIS = "…"
# A sentence ends at . ! ? … (closing quotes and brackets after it) before a space, or at a line break.
_ENDS = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n")
_ENDS_LAST = re.compile(r"[.!?…]+[\"'”’)\]]*\s*$")
_DANGLING = re.compile(r"[\s,;:\-–—(\"'“‘]+$")


@dataclass(frozen=True, slots=True)
class CutEnd:
    """How a cut answer ends: `text` still to say, and the fragment left unsaid."""

    text: str
    dropped: str


class CleanCut:
    """Feed it the pieces as they stream with the tokens each took; `end` says how the answer finishes."""

    def __init__(self, budget: int, tail_tokens: int = TAIL_TOKENS) -> None:
        self._hold_after = max(0, budget - tail_tokens)
        self._tokens = 0
        self._text = ""
        self._released = 0
        self._whole = 0  # the end of the last whole sentence in `_text`

    def push(self, piece: str, tokens: int = 1) -> str:
        """What may be said now of the answer so far."""
        self._tokens += tokens
        if not piece:
            return ""
        start = max(self._released, len(self._text) - 8)  # a sentence end may straddle two pieces
        self._text += piece
        for match in _ENDS.finditer(self._text, start):
            if not self._list_number(match.start()):
                self._whole = max(self._whole, match.end())
        upto = len(self._text) if self._tokens <= self._hold_after else self._whole
        return self._release(upto)

    def end(self, finish_reason: str | None) -> CutEnd:
        """The rest of the answer: all of it unless the budget cut (`length`) an unfinished sentence."""
        rest = self._text[self._released :]
        if finish_reason != CUT or not rest.strip() or _ENDS_LAST.search(rest):
            return CutEnd(self._release(len(self._text)), "")
        said = self._text[: self._released]
        self._released = len(self._text)
        if said.strip() and self._whole >= len(said.rstrip()):
            return CutEnd("", rest)  # what was said ends with a whole sentence: the fragment goes
        # No whole sentence to fall back on, or part of this one is out: keep its whole words (the cap may
        # have split the last one), and trail off.
        words = rest.rstrip()
        head, _, _ = words.rpartition(" ")
        kept = head if head.strip() or said.strip() else words
        kept = _DANGLING.sub("", kept)
        return CutEnd(kept + ELLIPSIS, rest[len(kept) :])

    def _list_number(self, end: int) -> bool:
        """Whether the line up to `end` is a number alone: "7. " starts a list item, it ends nothing."""
        line = self._text[self._text.rfind("\n", 0, end) + 1 : end].strip()
        return line.isdigit() and len(line) <= 3

    def _release(self, upto: int) -> str:
        upto = max(upto, self._released)
        cleared, self._released = self._text[self._released : upto], upto
        return cleared
