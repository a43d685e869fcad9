"""Chat completions' `stop`: the answer ends before the first stop sequence, also when it streams."""

from __future__ import annotations

from collections.abc import Sequence

from voxhub.errors import InputError

MAX_STOP_SEQUENCES = 4  # as OpenAI's API allows


def stop_sequences(stop: str | Sequence[str] | None) -> tuple[str, ...]:
    """The request's `stop` as a tuple of non-empty sequences (a string is one sequence)."""
    if stop is None:
        return ()
    sequences = (stop,) if isinstance(stop, str) else tuple(stop)
    if len(sequences) > MAX_STOP_SEQUENCES:
        raise InputError(
            f"stop takes at most {MAX_STOP_SEQUENCES} sequences, got {len(sequences)}",
            details={"param": "stop", "max": MAX_STOP_SEQUENCES},
        )
    return tuple(sequence for sequence in sequences if sequence)


class StopCutter:
    """Passes streamed text on until a stop sequence, holding back a tail that may be one's beginning."""

    def __init__(self, sequences: Sequence[str]) -> None:
        self.sequences = tuple(sequences)
        self.stopped = False
        self._held = ""

    def push(self, text: str) -> str:
        """The part of `text` (after what was held back) that is certainly before any stop sequence."""
        if self.stopped:
            return ""
        buffer = self._held + text
        found = [index for sequence in self.sequences if (index := buffer.find(sequence)) >= 0]
        if found:
            self.stopped, self._held = True, ""
            return buffer[: min(found)]
        keep = self._unfinished_tail(buffer)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """What was held back, once the answer ended without reaching a stop sequence."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _unfinished_tail(self, buffer: str) -> int:
        """The length of the longest end of `buffer` that begins some stop sequence."""
        longest = max((len(sequence) for sequence in self.sequences), default=1) - 1
        for size in range(min(longest, len(buffer)), 0, -1):
            tail = buffer[-size:]
            if any(sequence.startswith(tail) for sequence in self.sequences):
                return size
        return 0
