"""Decode any common audio file to PcmAudio, refusing one over a length limit before it fills the memory.

A compressed file is small but its samples are not: 500 KB of FLAC silence is an hour, 115 MB as s16le and
gigabytes once an STT engine has converted it. So `max_secs` is checked twice: against the length the file
declares (its header, when that is exact), before anything is decoded; and while decoding, frame by frame,
stopping as soon as the decoded audio passes the limit (a header may be missing or lie).
"""

from __future__ import annotations

import io
import itertools
import math
from fractions import Fraction

import av

from voxhub.audio.limits import GRACE_SECS, MAX_DECODED_RATE_HZ, audio_too_long
from voxhub.audio.pcm import SAMPLE_WIDTH_BYTES, PcmAudio
from voxhub.audio.wav import UnsupportedWavEncoding, decode_wav, looks_like_wav
from voxhub.errors import AudioError

# Containers whose demuxer reads a stream's length from the file (FLAC STREAMINFO, the last Ogg page, a WAV
# data chunk, an MP4 track header). For others FFmpeg may guess it from the bitrate, and a guess must not
# refuse a file: those are held to the limit while decoding only.
_EXACT_LENGTH_FORMATS = frozenset({"flac", "ogg", "wav", "w64", "aiff", "caf", "mov", "mp4", "m4a"})
_MP3_LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")


def decode_audio(data: bytes, *, max_secs: float | None = None) -> PcmAudio:
    """Decode WAV, mp3, ogg/opus, webm, flac (anything FFmpeg reads) to mono s16le at the file's rate
    (at most 48 kHz); audio longer than `max_secs` raises AudioTooLongError (413) without being decoded in full.
    """
    if not data:
        raise AudioError("audio is empty")
    if looks_like_wav(data):
        try:
            audio = decode_wav(data, max_secs=max_secs)
        except UnsupportedWavEncoding as unsupported:  # mu-law, A-law, ADPCM...: FFmpeg knows them
            try:
                audio = _decode_with_av(data, max_secs)
            except AudioError:
                raise unsupported from None
    else:
        audio = _decode_with_av(data, max_secs)
    if audio.sample_count == 0:
        raise AudioError("audio is empty: the file holds no samples")
    return audio


def _decode_with_av(data: bytes, max_secs: float | None) -> PcmAudio:
    decoded = bytearray()
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise AudioError("no audio stream in the file")
            stream = container.streams.audio[0]
            if stream.codec_context is None:  # FFmpeg has no decoder for it
                raise AudioError("unsupported audio codec: FFmpeg cannot decode it")
            rate = min(int(stream.codec_context.sample_rate), MAX_DECODED_RATE_HZ)
            if rate <= 0:
                raise AudioError("corrupt audio: the file states no sample rate")
            max_bytes = math.inf
            if max_secs is not None:
                declared = _declared_secs(container, stream, data)
                if declared is not None and declared > max_secs + GRACE_SECS:
                    raise audio_too_long(max_secs, declared_secs=declared)
                max_bytes = math.ceil((max_secs + GRACE_SECS) * rate) * SAMPLE_WIDTH_BYTES
            converter = av.AudioResampler(format="s16", layout="mono", rate=rate)
            for frame in itertools.chain(container.decode(stream), [None]):  # None: flush
                for converted in converter.resample(frame):
                    decoded += memoryview(converted.planes[0])[: converted.samples * SAMPLE_WIDTH_BYTES]
                if len(decoded) > max_bytes:
                    assert max_secs is not None
                    raise audio_too_long(
                        max_secs, decoded_samples=len(decoded) // SAMPLE_WIDTH_BYTES, rate_hz=rate
                    )
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, IndexError, OSError) as exc:
        raise AudioError(f"unsupported or corrupt audio: {exc}") from None
    return PcmAudio(bytes(decoded), rate)


def _declared_secs(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream, data: bytes
) -> float | None:
    """The stream's length as its file states it, or None when the file does not (or FFmpeg would guess)."""
    names = set(container.format.name.split(","))
    exact = bool(names & _EXACT_LENGTH_FORMATS) or ("mp3" in names and _mp3_counts_its_frames(data))
    if not exact or stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * Fraction(stream.time_base))


def _mp3_counts_its_frames(data: bytes) -> bool:
    """Whether an MP3 opens with a Xing, Info or VBRI frame, which holds its frame count. Without one FFmpeg
    guesses the length from the first frame's bitrate: a VBR file that starts quietly may 'last' 3 times longer.
    """
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:  # an ID3v2 tag first: skip it (its size is 4 x 7 bits)
        start = 10 + (data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]) + (10 if data[5] & 0x10 else 0)
    head = data[start : start + 192]
    return any(tag in head for tag in _MP3_LENGTH_TAGS)
