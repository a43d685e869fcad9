"""The native protocol's server events: one JSON object per pipeline frame (audio may go as binary)."""

from __future__ import annotations

import time
from typing import Any

from voxhub.audio.base64_payload import encode_base64_audio
from voxhub.pipeline.frames import (
    AudioOutEndFrame,
    AudioOutFrame,
    AudioStartFrame,
    ErrorFrame,
    Frame,
    InterruptFrame,
    ModeChangedFrame,
    NoticeFrame,
    ResponseDeltaFrame,
    ResponseFrame,
    SpeechStartedFrame,
    SpeechStoppedFrame,
    TranscriptFrame,
    WakeWordFrame,
)


def event(
    kind: str, session_id: str, data: dict[str, Any] | None = None, turn_id: str | None = None
) -> dict[str, Any]:
    """A server event: `type`, `session_id`, `timestamp` (unix seconds), `turn_id` where it applies, `data`."""
    body: dict[str, Any] = {"type": kind, "session_id": session_id, "timestamp": time.time()}
    if turn_id is not None:
        body["turn_id"] = turn_id
    body["data"] = data or {}
    return body


def error_event(
    session_id: str, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return event("error", session_id, {"error": message, "code": code, "details": details or {}})


def frame_event(frame: Frame, session_id: str) -> dict[str, Any] | None:
    """The event for a frame, or None for frames clients never see (audio goes separately)."""
    match frame:
        case SpeechStartedFrame(timestamp_ms=at):
            return event("speech_started", session_id, {"timestamp_ms": at})
        case SpeechStoppedFrame(timestamp_ms=at):
            return event("speech_stopped", session_id, {"timestamp_ms": at})
        case WakeWordFrame(wake_word=word, confidence=confidence, timestamp_ms=at):
            return event(
                "wake_word", session_id, {"wake_word": word, "confidence": confidence, "timestamp_ms": at}
            )
        case TranscriptFrame(text=text, is_final=final, turn_id=turn, language=language):
            return event(
                "transcript", session_id, {"text": text, "is_final": final, "language": language}, turn
            )
        case ResponseDeltaFrame(text=text, turn_id=turn):
            return event("response_delta", session_id, {"text": text}, turn)
        case ResponseFrame(text=text, turn_id=turn):
            return event("response", session_id, {"text": text}, turn)
        case AudioStartFrame(turn_id=turn, sample_rate_hz=rate):
            return event("audio_start", session_id, {"sample_rate_hz": rate, "encoding": "pcm_s16le"}, turn)
        case AudioOutEndFrame(turn_id=turn):
            return event("audio_end", session_id, {}, turn)
        case InterruptFrame(turn_id=turn, reason=reason):
            return event("interrupted", session_id, {"reason": reason}, turn or None)
        case NoticeFrame(kind=kind, data=data, turn_id=turn):
            return event(kind, session_id, data, turn)
        case ModeChangedFrame(mode=mode):
            return event("mode_changed", session_id, {"mode": mode})
        case ErrorFrame(error=code, message=message, details=details, turn_id=turn):
            return event("error", session_id, {"error": message, "code": code, "details": details}, turn)
    return None


def audio_event(frame: AudioOutFrame, session_id: str) -> dict[str, Any]:
    """Audio for clients that asked for `audio_encoding=base64`."""
    return event(
        "tts_chunk",
        session_id,
        {"audio": encode_base64_audio(frame.pcm_s16le), "sample_rate_hz": frame.sample_rate_hz},
        frame.turn_id,
    )
