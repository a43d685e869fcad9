"""Audio: PCM s16le mono with the rate alongside, codecs, resampling, base64 payloads."""

from __future__ import annotations

from voxhub.audio.base64_payload import decode_base64_audio, encode_base64_audio
from voxhub.audio.codecs import (
    MEDIA_TYPES,
    OUTPUT_FORMATS,
    AudioEncoder,
    OutputFormat,
    encode_audio,
    peak_dbfs,
)
from voxhub.audio.decode import decode_audio
from voxhub.audio.pcm import PcmAudio
from voxhub.audio.resample import StreamResampler, resample
from voxhub.audio.wav import decode_wav, encode_wav

__all__ = [
    "MEDIA_TYPES",
    "OUTPUT_FORMATS",
    "AudioEncoder",
    "OutputFormat",
    "PcmAudio",
    "StreamResampler",
    "decode_audio",
    "decode_base64_audio",
    "decode_wav",
    "encode_audio",
    "encode_base64_audio",
    "encode_wav",
    "peak_dbfs",
    "resample",
]
