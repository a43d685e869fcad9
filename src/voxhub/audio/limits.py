"""How long decoded audio may be: the refusal every decoder raises when a file is over the limit."""

from __future__ import annotations

from typing import Protocol

from voxhub.errors import AudioError, AudioTooLongError, PayloadTooLargeError

# Files at higher rates are decoded at this one, so a cap on seconds is also a cap on samples (and memory).
MAX_DECODED_RATE_HZ = 48_000
# Codec padding (an encoder's delay, Opus pre-skip) may add a fraction of a second to a file cut at the limit.
GRACE_SECS = 0.5


def audio_too_long(
    limit_secs: float, *, declared_secs: float | None = None, decoded_samples: int = 0, rate_hz: int = 0
) -> AudioTooLongError:
    """The 413 for audio over `limit_secs`, known from the file's header (`declared_secs`, nothing decoded)
    or found while decoding (`decoded_samples` at `rate_hz` when decoding stopped)."""
    details: dict[str, float | int] = {"limit_secs": limit_secs, "decoded_samples": decoded_samples}
    if declared_secs is not None:
        details["declared_secs"] = round(declared_secs, 3)
        found = f"the file says it lasts {declared_secs:.1f} s"
    else:
        details["decoded_secs"] = round(decoded_samples / rate_hz, 3)
        found = f"decoding stopped after {decoded_samples / rate_hz:.1f} s"
    return AudioTooLongError(
        f"audio is longer than the limit of {limit_secs:g} s (max_audio_secs): {found}", details=details
    )


def upload_too_large(max_bytes: int) -> PayloadTooLargeError:
    """The 413 for an audio file of more than `max_bytes`, on every route that takes one."""
    return PayloadTooLargeError(
        f"audio file is over the limit of {max_bytes} bytes (max_audio_bytes)",
        details={"limit_bytes": max_bytes},
    )


class Readable(Protocol):
    """An uploaded file (starlette's UploadFile): read at most `size` bytes."""

    async def read(self, size: int = -1) -> bytes: ...


async def read_upload(upload: Readable, *, max_bytes: int) -> bytes:
    """An uploaded audio file, refused with 413 once it is over `max_bytes` (never read further)."""
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise upload_too_large(max_bytes)
    if not data:
        raise AudioError("audio file is empty")
    return data
