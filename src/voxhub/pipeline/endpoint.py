"""The end-of-turn decision at a pause: ask the turn engine once, then say how much silence ends the turn.

The listener asks a little into each pause (when the speculative final starts); until the verdict is in,
the VAD's silence window applies, so a verdict that comes too late changes nothing. A failing engine is
reported once per turn and the VAD's silence window decides that pause, as if no engine were set. The
decision is kept on the turn's record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from voxhub.audio.pcm import PcmAudio
from voxhub.engines.turn.base import TurnEngine, TurnQuery, longest_wait_ms, silence_needed_ms
from voxhub.pipeline.frames import ErrorFrame
from voxhub.pipeline.turns import Turn

_log = logging.getLogger(__name__)
ERROR_CODE = "turn_error"


class PauseJudge:
    """One session's end-of-turn state: the pause being judged and its verdict."""

    def __init__(
        self, engine: TurnEngine | None, window_ms: float, report: Callable[[ErrorFrame], Awaitable[None]]
    ) -> None:
        capabilities = engine.capabilities if engine is not None else None
        self._engine = (
            engine if capabilities and (capabilities.reads_text or capabilities.reads_audio) else None
        )
        self.name = engine.name if engine is not None else "silence"
        self.window_ms = window_ms
        self.longest_ms = longest_wait_ms(self._engine, window_ms)
        self._report = report
        self._task: asyncio.Task[None] | None = None
        self._turn: Turn | None = None

    @property
    def active(self) -> bool:
        """Whether an engine decides (else the VAD's silence window ends every turn, as it always did)."""
        return self._engine is not None

    def ask(self, turn: Turn, audio: PcmAudio, words: asyncio.Task[str], language: str | None) -> None:
        """A pause began in `turn`: judge it on `audio` (heard so far) and `words` (its decode, for text)."""
        self.cancel()
        if self._engine is None:
            return
        self._turn = turn
        turn.endpoint.engine, turn.endpoint.verdict, turn.endpoint.failed = self.name, None, False
        self._task = asyncio.create_task(self._judge(self._engine, turn, audio, words, language))

    def needed_ms(self) -> float:
        """The silence that ends the turn at this pause, on what is known so far."""
        if self._engine is None or self._turn is None:
            return self.window_ms
        if self._task is not None and not self._task.done():
            # No verdict yet: the silence window still ends the turn (a slow engine is no slower than
            # none); the segment stays open past it only for a verdict that came in time.
            return self.window_ms
        endpoint = self._turn.endpoint
        if endpoint.failed:
            return self.window_ms
        return silence_needed_ms(endpoint.verdict, self.window_ms)

    def ended(self, turn: Turn | None, paused_ms: float) -> None:
        """The turn ended after `paused_ms` of silence: record it and stop judging."""
        if turn is not None:
            turn.endpoint.engine = self.name
            turn.endpoint.paused_ms = paused_ms
            turn.endpoint.silence_needed_ms = self.needed_ms() if turn is self._turn else self.window_ms
        self.cancel()

    def cancel(self) -> None:
        """Speech went on (or the turn ended): the pause's question is moot."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = self._turn = None

    async def _judge(
        self, engine: TurnEngine, turn: Turn, audio: PcmAudio, words: asyncio.Task[str], language: str | None
    ) -> None:
        text = ""
        if engine.capabilities.reads_text:
            await asyncio.wait({words})
            if words.cancelled() or words.exception() is not None:
                turn.endpoint.failed = True  # the decode failed: its own error goes out with the final
                return
            text = words.result()
        try:
            turn.endpoint.verdict = await engine.complete(TurnQuery(audio, text, language))
        except Exception as exc:  # any engine's failure: the silence window decides, listening goes on
            _log.warning("the %s end-of-turn engine failed: %s", self.name, exc)
            turn.endpoint.failed = True
            message = f"the {self.name} end-of-turn check failed ({type(exc).__name__}); using silence"
            # Reported once per turn (the output stage drops repeats of a code).
            await self._report(ErrorFrame(ERROR_CODE, message, {"engine": self.name}, turn.turn_id))
