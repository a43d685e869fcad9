"""RIFF/WAVE reading (PCM 8/16/24/32-bit and float, any rate, any channels) and 16-bit writing.

Other encodings (mu-law, A-law, ADPCM, ...) raise `UnsupportedWavEncoding`; `decode_audio` hands those to FFmpeg.
"""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
import numpy.typing as npt

from voxhub.audio.limits import audio_too_long
from voxhub.audio.pcm import PcmAudio, mix_to_mono
from voxhub.errors import AudioError

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE
# (format tag, bits per sample) this reader converts itself
_READABLE = frozenset({(_PCM, 8), (_PCM, 16), (_PCM, 24), (_PCM, 32), (_FLOAT, 32), (_FLOAT, 64)})


class UnsupportedWavEncoding(AudioError):
    """A well-formed WAV in an encoding this reader does not know (its format tag is in `details`)."""


def looks_like_wav(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def decode_wav(data: bytes, *, max_secs: float | None = None) -> PcmAudio:
    """Decode a WAV file to mono s16le at its own rate, or raise AudioError saying what is wrong.

    A file longer than `max_secs` is refused (AudioTooLongError) before its samples are converted.
    """
    if not looks_like_wav(data):
        raise AudioError("not a WAV file: missing RIFF/WAVE header")
    fmt: tuple[int, int, int, int] | None = None
    payload: bytes | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = data[offset + 8 : offset + 8 + size]
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(body)
        elif chunk_id == b"data":
            payload = body  # a truncated last chunk is read as far as it goes
            break
        offset += 8 + size + (size & 1)
    if fmt is None:
        raise AudioError("corrupt WAV file: no 'fmt ' chunk")
    if payload is None:
        raise AudioError("corrupt WAV file: no 'data' chunk")
    tag, channels, rate, bits = fmt
    if (tag, bits) not in _READABLE:
        raise UnsupportedWavEncoding(
            f"unsupported WAV encoding (format tag {tag}, {bits} bits); use PCM or float",
            details={"format_tag": tag, "bits": bits},
        )
    frames = len(payload) // (channels * bits // 8)
    if max_secs is not None and frames > max_secs * rate:
        raise audio_too_long(max_secs, declared_secs=frames / rate)
    samples = _to_float(payload, tag, bits, channels)
    return PcmAudio.from_float32(mix_to_mono(samples, channels), rate)


def _parse_fmt(body: bytes) -> tuple[int, int, int, int]:
    if len(body) < 16:
        raise AudioError("corrupt WAV file: 'fmt ' chunk too short")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack_from("<H", body, 24)[0]
    if channels < 1 or rate < 1000 or rate > 384_000:
        raise AudioError(f"corrupt WAV file: {channels} channels at {rate} Hz")
    return tag, channels, rate, bits


def _to_float(payload: bytes, tag: int, bits: int, channels: int) -> npt.NDArray[np.float32]:
    width = bits // 8
    usable = len(payload) - len(payload) % (width * channels or 1)
    raw = payload[:usable]
    if tag == _FLOAT:
        return np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
    if bits == 8:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if bits == 16:
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if bits == 24:
        triplets = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triplets[:, 0] | (triplets[:, 1] << 8) | (triplets[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
        return values.astype(np.float32) / float(1 << 23)
    return np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)


def encode_wav(audio: PcmAudio) -> bytes:
    """A 16-bit mono WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(audio.sample_rate_hz)
        writer.writeframes(audio.pcm_s16le)
    return out.getvalue()


def wav_header(sample_rate_hz: int) -> bytes:
    """A WAV header for a stream of unknown length, for sending audio as it is made."""
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        0xFFFFFFFF,
        b"WAVE",
        b"fmt ",
        16,
        _PCM,
        1,
        sample_rate_hz,
        sample_rate_hz * 2,
        2,
        16,
        b"data",
        0xFFFFFFFF,
    )
