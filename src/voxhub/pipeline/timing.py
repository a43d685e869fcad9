"""Where a turn's time goes: engine latencies, the whole turn, and what voxhub itself adds.

The figures of one turn live on its record in the ledger (`Turn.timing`); this only reports them.
"""

from __future__ import annotations

from typing import Protocol

from voxhub.pipeline.turns import Turn, loop_clock


class LatencyObserver(Protocol):
    def observe(self, stage: str, seconds: float) -> None: ...


class TurnTimings:
    """Stages report what they measured; per-stage latencies go to the observer as they come."""

    def __init__(self, observer: LatencyObserver | None = None) -> None:
        self._observer = observer

    def _observe(self, stage: str, seconds: float) -> None:
        if self._observer is not None:
            self._observer.observe(stage, seconds)

    def stt_final(self, seconds: float) -> None:
        """From the endpoint to the final transcript."""
        self._observe("stt_final", seconds)

    def llm_first_token(self, turn: Turn, seconds: float) -> None:
        self._observe("llm_first_token", seconds)
        turn.timing.llm_first_token_secs = seconds

    def llm_first_sentence(self, turn: Turn, seconds: float) -> None:
        if not turn.timing.llm_first_sentence_secs:
            turn.timing.llm_first_sentence_secs = seconds

    def tts_first_audio(self, turn: Turn, seconds: float) -> None:
        self._observe("tts_first_audio", seconds)
        if not turn.timing.tts_first_audio_secs:
            turn.timing.tts_first_audio_secs = seconds

    def first_output_ready(self, turn: Turn, *, spoken: bool) -> None:
        """The turn's first audio (or, without voice, text) reached the output; the rest of the wait since
        the turn began was voxhub's own work, not the engines'."""
        timing = turn.timing
        if timing.overhead_done:
            return
        timing.overhead_done = True
        elapsed = loop_clock() - timing.started_at
        engines = (
            timing.llm_first_sentence_secs + timing.tts_first_audio_secs
            if spoken
            else timing.llm_first_token_secs
        )
        self._observe("server_overhead", max(0.0, elapsed - engines))

    def end_of_speech_to_first_audio(self, seconds: float) -> None:
        self._observe("end_of_speech_to_first_audio", seconds)

    def turn_finished(self, turn: Turn) -> None:
        self._observe("turn_total", loop_clock() - turn.timing.started_at)
