"""The turn ledger: one record per turn, the only place a turn's state lives.

A turn is one exchange: the user's input (spoken or typed, or the outputs of the client's tools) and the
assistant's answer. Its record moves through a small state machine::

    listening → thinking → speaking → done | interrupted | failed

(`listening` only for spoken turns; a typed turn starts at `thinking`; a turn may end from any open state).
Every stage reads and writes the turn through its record; when the turn ends, the record moves to a short
ring of recent turns (so a late frame of an interrupted turn is still recognised, and `audio_played` can
trim the answer of a turn just finished) and then falls out: a connection that lives for days keeps a
bounded ledger.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from voxhub.engines.llm.base import ChatMessage, ToolCall
from voxhub.pipeline.frames import Frame

RECENT_TURNS = 16  # ended turns remembered (their heard text and audio length), oldest dropped first
OPEN_TURNS = 32  # open turns at most; an utterance never answered nor dropped cannot pile up past this
Source = Literal["spoken", "typed", "tools", "said"]


class TurnState(enum.Enum):
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    DONE = "done"
    INTERRUPTED = "interrupted"
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        return self in _ENDED


_ENDED = frozenset({TurnState.DONE, TurnState.INTERRUPTED, TurnState.FAILED})
_NEXT: dict[TurnState, frozenset[TurnState]] = {
    TurnState.LISTENING: frozenset({TurnState.THINKING, *_ENDED}),
    TurnState.THINKING: frozenset({TurnState.SPEAKING, *_ENDED}),
    TurnState.SPEAKING: _ENDED,
    TurnState.DONE: frozenset(),
    TurnState.INTERRUPTED: frozenset(),
    TurnState.FAILED: frozenset(),
}


class TurnStateError(RuntimeError):
    """A stage tried a transition the state machine does not allow (a bug, reported as an error)."""


@dataclass(slots=True)
class TurnTiming:
    """Where the turn's time went, on the event loop's clock (seconds)."""

    started_at: float = 0.0  # when the answer began (the input complete, or tentatively so)
    llm_first_token_secs: float = 0.0
    llm_first_sentence_secs: float = 0.0  # speech cannot start before a whole sentence is written
    tts_first_audio_secs: float = 0.0
    overhead_done: bool = False


@dataclass(slots=True)
class Endpoint:
    """How a spoken turn's end was decided: the end-of-turn engine's verdict at its last pause."""

    engine: str = "silence"
    verdict: float | None = None  # the engine's probability that the turn was complete; None: no opinion
    failed: bool = False  # the engine failed at that pause: the VAD's silence window decided
    silence_needed_ms: float = 0.0  # the silence the verdict asked for
    paused_ms: float = 0.0  # the silence heard when the turn ended (0: ended by the end of the audio)


@dataclass(eq=False, slots=True)
class Turn:
    """One turn's record. Stages change it only through the methods below and `Turns`."""

    turn_id: str
    source: Source
    state: TurnState = TurnState.LISTENING
    inputs: tuple[ChatMessage, ...] = ()  # what opened the turn: the user's words, or tool outputs
    transcript: str | None = None  # spoken turns: the final transcript
    language: str | None = None  # spoken turns: the language heard, which the answer is in
    tentative: bool = False  # answered before the endpoint: its output is held until confirmed
    stopping: bool = False  # an interrupt is on its way: every stage drops what it holds of the turn
    in_memory: bool = False  # its inputs are in the LLM's messages (the answer began)
    held: list[Frame] = field(default_factory=list)  # the output's frames of a tentative turn
    generated: list[str] = field(default_factory=list)  # the answer's text as the reply source wrote it
    written: list[str] = field(default_factory=list)  # text deltas sent to the client
    spoken: list[str] = field(default_factory=list)  # the words of the audio sent to the client
    audio_started: bool = False  # the speaker sent this turn's audio_start
    audio_made_ms: float = 0.0  # audio synthesized so far (where the next visemes start)
    audio_sent_ms: float = 0.0  # audio sent to the client
    exchange: list[ChatMessage] = field(default_factory=list)  # server-side tool calls and results
    tool_calls: tuple[ToolCall, ...] = ()  # calls of the client's tools the answer ends with
    errors_reported: set[str] = field(default_factory=set)  # error codes sent for this turn (once each)
    answer: str | None = None  # what history keeps of the answer, once the turn ended
    timing: TurnTiming = field(default_factory=TurnTiming)
    endpoint: Endpoint = field(default_factory=Endpoint)  # spoken turns: what ended the user's speech
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # history has the turn (or it is gone)

    @property
    def answering(self) -> bool:
        return self.state in (TurnState.THINKING, TurnState.SPEAKING)

    def move(self, state: TurnState) -> None:
        if state is self.state:
            return
        if state not in _NEXT[self.state]:
            raise TurnStateError(f"turn {self.turn_id}: {self.state.value} → {state.value} is not allowed")
        self.state = state

    def heard_text(self, voice_output: bool) -> str:
        """What the user got of the answer so far: the words of the audio sent, or the text sent."""
        return " ".join(self.spoken).strip() if voice_output else "".join(self.written).strip()

    @property
    def user_text(self) -> str:
        return "\n".join(message.content for message in self.inputs if message.role == "user")


def heard_words(text: str, played_ms: float, audio_ms: float) -> str:
    """The words of the first `played_ms` of an answer whose audio lasts `audio_ms`, assuming the words
    are spread evenly over it (the one rule for `audio_played` and Realtime's truncate)."""
    words = text.split()
    if audio_ms <= 0 or played_ms >= audio_ms:
        return " ".join(words)
    return " ".join(words[: int(len(words) * played_ms / audio_ms)])


class Turns:
    """The ledger of one conversation: open turns by id, then a short ring of ended ones."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock
        self._open: OrderedDict[str, Turn] = OrderedDict()
        self._recent: OrderedDict[str, Turn] = OrderedDict()
        self.on_end: Callable[[Turn], None] | None = None  # the conversation commits what ends
        self.on_drop: Callable[[Turn], None] | None = None  # and forgets what never happened

    def now(self) -> float:
        return self._clock() if self._clock is not None else loop_clock()

    def __len__(self) -> int:
        return len(self._open) + len(self._recent)

    def get(self, turn_id: str | None) -> Turn | None:
        """The turn, open or recently ended; None for an unknown id."""
        if turn_id is None:
            return None
        return self._open.get(turn_id) or self._recent.get(turn_id)

    def open_turn(self, turn_id: str | None) -> Turn | None:
        return self._open.get(turn_id) if turn_id is not None else None

    @property
    def answering(self) -> Turn | None:
        """The turn being answered (thinking or speaking), if any; the newest if several."""
        for turn in reversed(self._open.values()):
            if turn.answering:
                return turn
        return None

    def listen(self, turn_id: str) -> Turn:
        """A spoken turn begins: the user started talking."""
        return self._add(Turn(turn_id, "spoken"))

    def think(
        self, turn_id: str, inputs: tuple[ChatMessage, ...], source: Source, *, tentative: bool = False
    ) -> Turn:
        """The answer to `turn_id` starts (a spoken turn is found by its id; others are new)."""
        turn = self._open.get(turn_id) or self._add(Turn(turn_id, source))
        turn.move(TurnState.THINKING)
        turn.inputs, turn.tentative = inputs, tentative
        turn.timing.started_at = self.now()
        return turn

    def drop(self, turn_id: str) -> Turn | None:
        """Forget a turn that never happened (noise, nothing recognised, a retracted guess): no trace."""
        turn = self._open.pop(turn_id, None)
        if turn is not None:
            turn.stopping = True
            turn.held.clear()
            if self.on_drop is not None:
                self.on_drop(turn)
            turn.settled.set()
        return turn

    def end(self, turn: Turn, state: TurnState, answer: str) -> None:
        """The turn is over: `answer` is what history keeps; the conversation commits it."""
        turn.move(state)
        turn.answer = answer
        self._open.pop(turn.turn_id, None)
        self._recent[turn.turn_id] = turn
        while len(self._recent) > RECENT_TURNS:
            self._recent.popitem(last=False)
        turn.held.clear()
        if self.on_end is not None:
            self.on_end(turn)
        else:
            turn.settled.set()

    def _add(self, turn: Turn) -> Turn:
        self._open[turn.turn_id] = turn
        while len(self._open) > OPEN_TURNS:
            _, oldest = self._open.popitem(last=False)
            oldest.settled.set()
        return turn

    async def wait_settled(self, turn_id: str | None, timeout_secs: float = 2.0) -> None:
        """Wait (briefly) until history has turn `turn_id`, before building on it."""
        turn = self.get(turn_id)
        if turn is not None and not turn.settled.is_set():
            try:
                await asyncio.wait_for(turn.settled.wait(), timeout_secs)
            except TimeoutError:
                return


def loop_clock() -> float:
    """The running event loop's clock (virtual in the pipeline's tests), or the monotonic clock."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()
