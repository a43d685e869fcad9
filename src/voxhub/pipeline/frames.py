"""What flows through a conversation: frozen frames, grouped by how they are delivered.

`DataFrame`s keep their order in a stage's queue, so a transcript never overtakes the audio it came from.
`UrgentFrame`s (interrupt, end) overtake everything queued: a barge-in must not wait behind audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voxhub.engines.llm.base import ChatMessage, ToolCall
from voxhub.pipeline.reply import ReplyOptions


@dataclass(frozen=True, slots=True)
class Frame:
    """Anything a stage passes on."""


@dataclass(frozen=True, slots=True)
class DataFrame(Frame):
    """Delivered in order, behind whatever is queued."""


@dataclass(frozen=True, slots=True)
class UrgentFrame(Frame):
    """Delivered before anything queued."""


# -- input ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioInFrame(DataFrame):
    pcm_s16le: bytes
    sample_rate_hz: int


@dataclass(frozen=True, slots=True)
class TextInputFrame(DataFrame):
    text: str


@dataclass(frozen=True, slots=True)
class RespondFrame(DataFrame):
    """Answer now, after adding `inputs` (e.g. the outputs of the client's tools) to the conversation."""

    inputs: tuple[ChatMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class WithdrawFrame(DataFrame):
    """Forget an utterance heard but not answered yet (`answer_speech` off): the next answer never sees it."""

    text: str


@dataclass(frozen=True, slots=True)
class SayFrame(DataFrame):
    """Say `text` as the assistant's turn, without asking anyone (a greeting, an announcement)."""

    text: str


@dataclass(frozen=True, slots=True)
class AudioEndFrame(DataFrame):
    """The client says its utterance is over (push-to-talk, or a one-shot upload)."""


@dataclass(frozen=True, slots=True)
class AudioClearFrame(DataFrame):
    """The client drops the audio it sent that has not become a transcript yet."""


# -- what the listener heard ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpeechStartedFrame(DataFrame):
    timestamp_ms: float  # from the start of the session's audio


@dataclass(frozen=True, slots=True)
class SpeechStoppedFrame(DataFrame):
    timestamp_ms: float
    detected_after_ms: float = 0.0  # audio heard past the end of speech before the end was certain


@dataclass(frozen=True, slots=True)
class WakeWordFrame(DataFrame):
    wake_word: str
    confidence: float
    timestamp_ms: float


@dataclass(frozen=True, slots=True)
class TranscriptFrame(DataFrame):
    text: str
    is_final: bool
    turn_id: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class TentativeTranscriptFrame(DataFrame):
    """The likely final, decoded during a pause before the endpoint is certain; the answer may start."""

    text: str
    turn_id: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class RetractFrame(DataFrame):
    """The user went on speaking: the tentative answer to `turn_id` is void."""

    turn_id: str


# -- what the assistant says ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmTurnFrame(DataFrame):
    """The endpoint came and the final matched the tentative transcript: the output releases what it held
    of the (tentative) turn, right here in the order of frames."""

    turn_id: str


@dataclass(frozen=True, slots=True)
class ResponseDeltaFrame(DataFrame):
    text: str
    turn_id: str


@dataclass(frozen=True, slots=True)
class ResponseFrame(DataFrame):
    """The whole answer, sent once it is committed to history."""

    text: str
    turn_id: str


@dataclass(frozen=True, slots=True)
class AudioStartFrame(DataFrame):
    turn_id: str
    sample_rate_hz: int


@dataclass(frozen=True, slots=True)
class SentenceFrame(DataFrame):
    """One sentence of the answer, on its way to TTS."""

    text: str
    turn_id: str


@dataclass(frozen=True, slots=True)
class AudioOutFrame(DataFrame):
    pcm_s16le: bytes
    sample_rate_hz: int
    turn_id: str
    spoken_text: str = ""  # the words this piece of audio says, to know what was heard if cut off


@dataclass(frozen=True, slots=True)
class TurnDoneFrame(DataFrame):
    """The LLM has finished `turn_id`; it trails the turn's audio to the output."""

    turn_id: str
    text: str


@dataclass(frozen=True, slots=True)
class AudioOutEndFrame(DataFrame):
    turn_id: str


@dataclass(frozen=True, slots=True)
class NoticeFrame(DataFrame):
    """An event about the turn for the client, as is: `emotion`, `viseme`, `tool_call`, `fallback`, ..."""

    kind: str
    data: dict[str, Any]
    turn_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallsFrame(DataFrame):
    """The answer asks the client to run its tools; the turn ends here, waiting for their outputs."""

    calls: tuple[ToolCall, ...]
    turn_id: str


@dataclass(frozen=True, slots=True)
class ModeChangedFrame(DataFrame):
    """The session's modes from here on: each stage takes them as the frame passes."""

    mode: dict[str, bool]


@dataclass(frozen=True, slots=True)
class ReplyOptionsFrame(DataFrame):
    """How the next answers are made, from here on (instructions, tools, when to answer)."""

    options: ReplyOptions


@dataclass(frozen=True, slots=True)
class ErrorFrame(DataFrame):
    """Something failed; the conversation goes on."""

    error: str  # a stable code, e.g. "engine_error"
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    turn_id: str | None = None


# -- urgent -----------------------------------------------------------------------------------------


RETRACTED = "retracted"  # the reason of an interrupt that voids a tentative answer; clients never see it
FAILED = "failed"  # the reason of an interrupt that ends a turn a stage failed on; the client gets `response`


@dataclass(frozen=True, slots=True)
class InterruptFrame(UrgentFrame):
    """Stop the answer to `turn_id` ("": the one in flight): every stage drops what it holds of it."""

    turn_id: str
    reason: str = "user_speech"


@dataclass(frozen=True, slots=True)
class AnswerTextFrame(UrgentFrame):
    """The whole text of the answer to `turn_id` is made; it overtakes the audio still to be played
    (a client that shows text, or seed 002's `llm2_final`, need not wait for the speech to end)."""

    turn_id: str
    text: str


@dataclass(frozen=True, slots=True)
class SpeechOnsetFrame(UrgentFrame):
    """The VAD heard the first frames of what may be speech: the output holds its audio until the speech is
    confirmed (an interrupt follows) or turns out to be noise (playback resumes)."""

    timestamp_ms: float


@dataclass(frozen=True, slots=True)
class EndFrame(UrgentFrame):
    """The conversation is over; stages stop."""
