"""Endpointing: cut audio into a VAD stream's frames and turn its per-frame verdicts into speech segments."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voxhub.audio import PcmAudio, resample
from voxhub.errors import AudioError

if TYPE_CHECKING:
    from voxhub.config import Settings
    from voxhub.engines.vad.base import VadStream

# Absorbs float error when a duration is an exact multiple of the frame duration.
_EPSILON = 1e-6
# Chunks of up to this many frames are scored on the event loop; a thread hop costs more than that.
_INLINE_FRAMES = 4


def check_sample_rate(engine: str, sample_rate_hz: int, supported: tuple[int, ...]) -> None:
    """Raise AudioError unless the engine can score audio at `sample_rate_hz`."""
    if sample_rate_hz not in supported:
        rates = ", ".join(str(rate) for rate in supported)
        raise AudioError(f"the {engine} VAD takes {rates} Hz audio, not {sample_rate_hz} Hz")


def frame_size_error(
    engine: str, frame_s16le: bytes | bytearray | memoryview, frame_samples: int
) -> AudioError:
    """The error for a frame that is not exactly `frame_samples` samples long."""
    return AudioError(
        f"the {engine} VAD scores frames of exactly {frame_samples} samples ({2 * frame_samples} bytes), "
        f"got {memoryview(frame_s16le).nbytes} bytes"
    )


class FrameChunker:
    """Cuts PCM chunks of any size into frames of `frame_samples`, carrying the rest to the next chunk."""

    def __init__(self, frame_samples: int) -> None:
        self.frame_bytes = 2 * frame_samples
        self._carry = memoryview(bytearray(self.frame_bytes))
        self._carried = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes held back until the next chunk completes a frame."""
        return self._carried

    def frames(self, pcm_s16le: bytes | bytearray | memoryview) -> Iterator[memoryview]:
        """Each whole frame as a view, valid only until the next one is taken; iterate to the end.

        Frames inside the chunk are views of it (nothing copied); only a frame spanning two chunks is
        assembled, in a buffer allocated once.
        """
        data = memoryview(pcm_s16le)
        if data.format != "B" or data.ndim != 1:
            data = data.cast("B")
        size, offset, frame_bytes = data.nbytes, 0, self.frame_bytes
        if self._carried:
            offset = min(frame_bytes - self._carried, size)
            self._carry[self._carried : self._carried + offset] = data[:offset]
            self._carried += offset
            if self._carried < frame_bytes:
                return
            self._carried = 0
            yield self._carry
        while size - offset >= frame_bytes:
            yield data[offset : offset + frame_bytes]
            offset += frame_bytes
        self._carried = size - offset
        self._carry[: self._carried] = data[offset:]

    def reset(self) -> None:
        self._carried = 0


@dataclass(frozen=True, slots=True)
class SpeechSegment:
    """A stretch of speech, in milliseconds from the start of the audio."""

    start_ms: float
    end_ms: float
    truncated: bool = False  # cut at `vad_max_utterance_secs` while speech went on

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech was confirmed; `start_ms` is back-dated to the first speech frame of the confirming run."""

    start_ms: float


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """A started segment ended: `end_ms` is the end of its last speech frame."""

    start_ms: float
    end_ms: float
    truncated: bool = False  # cut at `vad_max_utterance_secs`; speech may go on into the next segment

    @property
    def segment(self) -> SpeechSegment:
        return SpeechSegment(self.start_ms, self.end_ms, self.truncated)


@dataclass(frozen=True, slots=True)
class SpeechCancelled:
    """A started segment ended shorter than `vad_min_speech_secs`: it was noise, not speech."""

    start_ms: float
    end_ms: float


SpeechEvent = SpeechStarted | SpeechEnded | SpeechCancelled


def _frames_for(duration_ms: float, frame_ms: float, *, at_least: int) -> int:
    return max(at_least, math.ceil(duration_ms / frame_ms - _EPSILON))


class SpeechSegmenter:
    """Turns one speech/silence verdict per frame into segment events.

    A run of speech is speech frames with no pause of `stop_secs` between them, whether or not it has been
    confirmed yet: once it holds `start_secs` of speech frames it starts a segment, dated from its first
    speech frame, and it ends after `stop_secs` of silence, at the end of its last speech frame. (Counting
    only consecutive frames would let one dropped frame, or a gap between words, delay the start.)

    A segment that ends shorter than `min_speech_secs` is reported as `SpeechCancelled` rather than dropped
    silently, because its `SpeechStarted` has already gone out (a listener may have paused playback for
    it). A segment reaching `max_utterance_secs` is ended there, `truncated`; speech that goes on starts a
    new segment. An engine that keeps flagging speech for a fixed number of frames after it stops (WebRTC's
    hangover) passes `hangover_frames`, and ends followed by silence are dated that much earlier.
    """

    def __init__(
        self,
        frame_ms: float,
        *,
        start_secs: float,
        stop_secs: float,
        min_speech_secs: float,
        max_utterance_secs: float,
        hangover_frames: int = 0,
    ) -> None:
        if frame_ms <= 0:
            raise ValueError(f"frame duration must be positive, got {frame_ms} ms")
        self.frame_ms = frame_ms
        self._start_frames = _frames_for(1000 * start_secs, frame_ms, at_least=1)
        self._stop_frames = _frames_for(1000 * stop_secs, frame_ms, at_least=1)
        self._min_frames = _frames_for(1000 * min_speech_secs, frame_ms, at_least=0)
        # Rounded down, so that no segment is ever longer than the maximum.
        self._max_frames = max(1, math.floor(1000 * max_utterance_secs / frame_ms + _EPSILON))
        self._hangover_frames = hangover_frames
        self.reset()

    @classmethod
    def from_settings(cls, settings: Settings, frame_ms: float, hangover_frames: int = 0) -> SpeechSegmenter:
        return cls(
            frame_ms,
            start_secs=settings.vad_start_secs,
            stop_secs=settings.vad_stop_secs,
            min_speech_secs=settings.vad_min_speech_secs,
            max_utterance_secs=settings.vad_max_utterance_secs,
            hangover_frames=hangover_frames,
        )

    def reset(self) -> None:
        self._frame = 0  # frames pushed so far
        self._run_start: int | None = None  # first frame of the unconfirmed run of speech
        self._run_speech = 0  # speech frames in the unconfirmed run
        self._segment_start: int | None = None  # first frame of the open segment
        self._speech_end = 0  # frame just after the last speech frame of the run or segment
        self._silent_frames = 0  # consecutive silence since then

    @property
    def speaking(self) -> bool:
        """Whether a segment is open."""
        return self._segment_start is not None

    @property
    def position_ms(self) -> float:
        """How much audio has been pushed."""
        return self._frame * self.frame_ms

    def push(self, is_speech: bool) -> tuple[SpeechEvent, ...]:
        """Take the verdict on the next frame; returns the events it causes (usually none)."""
        frame = self._frame
        self._frame += 1
        if self._segment_start is None:
            return self._while_quiet(is_speech, frame)
        if is_speech:
            self._speech_end = frame + 1
            self._silent_frames = 0
        else:
            self._silent_frames += 1
            if self._silent_frames >= self._stop_frames:
                return (self._close(truncated=False),)
        if self._frame - self._segment_start >= self._max_frames:
            return (self._close(truncated=True),)
        return ()

    def end_now(self) -> tuple[SpeechEvent, ...]:
        """End the open segment at its last speech frame, before `stop_secs` ran out (an end-of-turn engine
        decided); the frame count goes on."""
        return (self._close(truncated=False),) if self._segment_start is not None else ()

    def finish(self) -> tuple[SpeechEvent, ...]:
        """The audio is over: end the open segment, if any, and start afresh."""
        events = (self._close(truncated=False),) if self._segment_start is not None else ()
        self.reset()
        return events

    def _while_quiet(self, is_speech: bool, frame: int) -> tuple[SpeechEvent, ...]:
        if not is_speech:
            self._silent_frames += 1
            if self._run_start is not None and self._silent_frames >= self._stop_frames:
                self._run_start = None
            return ()
        if self._run_start is None:
            self._run_start, self._run_speech = frame, 0
        self._run_speech += 1
        self._speech_end = self._frame
        self._silent_frames = 0
        if self._run_speech < self._start_frames:
            return ()
        start = self._segment_start = self._run_start
        self._run_start = None
        started = SpeechStarted(start * self.frame_ms)
        if self._frame - start >= self._max_frames:
            return started, self._close(truncated=True)
        return (started,)

    def _close(self, *, truncated: bool) -> SpeechEnded | SpeechCancelled:
        assert self._segment_start is not None
        start, end = self._segment_start, self._speech_end
        if self._silent_frames:
            # Silence was heard after the last speech frame, so the engine's hangover has been and gone.
            end = max(start + 1, end - self._hangover_frames)
        self._segment_start = None
        self._run_start = None
        self._silent_frames = 0
        if end - start < self._min_frames:
            return SpeechCancelled(start * self.frame_ms, end * self.frame_ms)
        return SpeechEnded(start * self.frame_ms, end * self.frame_ms, truncated)


class _Detector:
    """A VAD stream, a chunker and a segmenter: PCM in, speech events out."""

    def __init__(self, stream: VadStream, settings: Settings) -> None:
        self.stream = stream
        self.chunker = FrameChunker(stream.frame_samples)
        frame_ms = 1000 * stream.frame_samples / stream.sample_rate_hz
        self.segmenter = SpeechSegmenter.from_settings(settings, frame_ms, stream.hangover_frames)
        stream.reset()

    def feed(self, audio: PcmAudio) -> list[SpeechEvent]:
        if audio.sample_rate_hz != self.stream.sample_rate_hz:
            raise AudioError(
                f"audio is {audio.sample_rate_hz} Hz but the VAD stream takes "
                f"{self.stream.sample_rate_hz} Hz; resample it or create the stream at its rate"
            )
        events: list[SpeechEvent] = []
        is_speech, push = self.stream.is_speech, self.segmenter.push
        for frame in self.chunker.frames(audio.pcm_s16le):
            happened = push(is_speech(frame))
            if happened:
                events.extend(happened)
        return events


async def speech_segments(
    stream: VadStream, chunks: AsyncIterable[PcmAudio], settings: Settings
) -> AsyncIterator[SpeechEvent]:
    """Speech events for live audio, timed from its first chunk; a segment open when it ends is ended there.

    The stream is reset first. Chunks must be at the stream's sample rate; a trailing part-frame is ignored.
    """
    detector = _Detector(stream, settings)
    inline_bytes = _INLINE_FRAMES * detector.chunker.frame_bytes
    async for chunk in chunks:
        if len(chunk.pcm_s16le) <= inline_bytes:
            events = detector.feed(chunk)
        else:
            events = await asyncio.to_thread(detector.feed, chunk)
        for event in events:
            yield event
    for event in detector.segmenter.finish():
        yield event


def find_segments(stream: VadStream, audio: PcmAudio, settings: Settings) -> list[SpeechSegment]:
    """The speech segments of a whole recording (resampled to the stream's rate if need be); CPU-bound."""
    detector = _Detector(stream, settings)
    events = detector.feed(resample(audio, stream.sample_rate_hz))
    events.extend(detector.segmenter.finish())
    return [event.segment for event in events if isinstance(event, SpeechEnded)]
