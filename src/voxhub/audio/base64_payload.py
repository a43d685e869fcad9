"""Base64 audio payloads with a size limit checked before decoding."""

from __future__ import annotations

import base64
import binascii

from voxhub.errors import AudioError, PayloadTooLargeError


def decode_base64_audio(text: str, *, max_bytes: int) -> bytes:
    """Decode base64 (standard or URL-safe, data: URLs too) that may hold at most `max_bytes`."""
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    estimated = len(text) * 3 // 4
    if estimated > max_bytes:
        raise PayloadTooLargeError(
            f"audio payload is {estimated} bytes; the limit is {max_bytes}",
            details={"limit_bytes": max_bytes, "size_bytes": estimated},
        )
    try:
        data = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AudioError(f"audio is not valid base64: {exc}") from None
    if not data:
        raise AudioError("audio is empty")
    return data


def encode_base64_audio(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
