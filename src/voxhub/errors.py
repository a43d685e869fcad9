"""The typed errors voxhub raises; each carries a stable code and the HTTP status it maps to."""

from __future__ import annotations

from typing import Any, ClassVar


class VoxhubError(Exception):
    """Base of every error voxhub raises on purpose."""

    code: ClassVar[str] = "voxhub_error"
    status_code: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class ConfigError(VoxhubError):
    """A setting is missing, malformed or names something that does not exist."""

    code = "config_error"


class UnknownEngineError(ConfigError):
    """A setting names an engine that is not registered."""

    code = "unknown_engine"


class ModelError(VoxhubError):
    """A model file is missing or does not match its pinned sha256."""

    code = "model_error"
    status_code = 503


class InputError(VoxhubError):
    """The caller sent something voxhub cannot use."""

    code = "invalid_input"
    status_code = 400


class AudioError(InputError):
    """Audio is corrupt, empty or in a format voxhub cannot read."""

    code = "invalid_audio"


class EmptyTextError(InputError):
    """Text input is empty or only whitespace."""

    code = "empty_text"


class PayloadTooLargeError(InputError):
    """A payload is over its configured size limit."""

    code = "payload_too_large"
    status_code = 413


class ContextOverflowError(PayloadTooLargeError):
    """A request makes a prompt longer than the language model can read at once."""

    code = "context_overflow"


class AudioTooLongError(PayloadTooLargeError):
    """Audio decodes to more than its configured length (a small file of silence can hold hours)."""

    code = "audio_too_long"


class EngineError(VoxhubError):
    """An engine failed while working (a remote service is down, a model raised)."""

    code = "engine_error"
    status_code = 502
