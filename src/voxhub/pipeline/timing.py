"""Where a turn's time goes: engine latencies, the whole turn, and what voxhub itself adds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class LatencyObserver(Protocol):
    def observe(self, stage: str, seconds: float) -> None: ...


@dataclass(slots=True)
class _Turn:
    started: float  # perf_counter when the answer began (the user's input complete, or tentatively so)
    llm_first_token_secs: float = 0.0
    llm_first_sentence_secs: float = 0.0  # speech cannot start before a whole sentence is written
    tts_first_audio_secs: float = 0.0
    overhead_done: bool = False


class TurnTimings:
    """Stages report what they measured; per-stage latencies go to the observer as they come."""

    def __init__(self, observer: LatencyObserver | None = None) -> None:
        self._observer = observer
        self._turns: dict[str, _Turn] = {}

    def _observe(self, stage: str, seconds: float) -> None:
        if self._observer is not None:
            self._observer.observe(stage, seconds)

    def stt_final(self, seconds: float) -> None:
        """From the endpoint to the final transcript."""
        self._observe("stt_final", seconds)

    def turn_started(self, turn_id: str) -> None:
        self._turns[turn_id] = _Turn(time.perf_counter())

    def llm_first_token(self, turn_id: str, seconds: float) -> None:
        self._observe("llm_first_token", seconds)
        if (turn := self._turns.get(turn_id)) is not None:
            turn.llm_first_token_secs = seconds

    def llm_first_sentence(self, turn_id: str, seconds: float) -> None:
        if (turn := self._turns.get(turn_id)) is not None and not turn.llm_first_sentence_secs:
            turn.llm_first_sentence_secs = seconds

    def tts_first_audio(self, turn_id: str, seconds: float) -> None:
        self._observe("tts_first_audio", seconds)
        if (turn := self._turns.get(turn_id)) is not None and not turn.tts_first_audio_secs:
            turn.tts_first_audio_secs = seconds

    def first_output_ready(self, turn_id: str, *, spoken: bool) -> None:
        """The turn's first audio (or, without voice, text) reached the output; the rest of the wait since
        the turn began was voxhub's own work, not the engines'."""
        turn = self._turns.get(turn_id)
        if turn is None or turn.overhead_done:
            return
        turn.overhead_done = True
        elapsed = time.perf_counter() - turn.started
        engines = (
            turn.llm_first_sentence_secs + turn.tts_first_audio_secs if spoken else turn.llm_first_token_secs
        )
        self._observe("server_overhead", max(0.0, elapsed - engines))

    def end_of_speech_to_first_audio(self, seconds: float) -> None:
        self._observe("end_of_speech_to_first_audio", seconds)

    def turn_finished(self, turn_id: str) -> None:
        if (turn := self._turns.pop(turn_id, None)) is not None:
            self._observe("turn_total", time.perf_counter() - turn.started)

    def forget(self, turn_id: str) -> None:
        self._turns.pop(turn_id, None)
