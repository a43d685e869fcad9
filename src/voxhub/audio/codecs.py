"""Encode PcmAudio as wav, pcm, mp3, opus or flac, whole or as a stream (decoding is in `decode`)."""

from __future__ import annotations

import io
from typing import Literal, get_args

import av
import numpy as np

from voxhub.audio.pcm import PcmAudio
from voxhub.audio.resample import resample
from voxhub.audio.wav import encode_wav, wav_header
from voxhub.errors import AudioError

OutputFormat = Literal["wav", "pcm", "mp3", "opus", "flac"]
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)
MEDIA_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "pcm": "audio/L16",
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "flac": "audio/flac",
}
# (container, codec, rates the codec accepts)
_CONTAINERS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "mp3": ("mp3", "libmp3lame", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)),
    "opus": ("ogg", "libopus", (8000, 12000, 16000, 24000, 48000)),
    "flac": ("flac", "flac", ()),
}


class _WriteOnlySink:
    """A file the muxer cannot seek in, so it writes a streamable file (no headers patched afterwards)."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.pending.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        return data


class AudioEncoder:
    """Encodes a stream of PCM chunks into one file, handing out bytes as soon as they exist.

    With `streaming=False` the whole file comes from `finish()`, with complete headers (length, seek tables).
    """

    def __init__(self, output_format: str, sample_rate_hz: int, *, streaming: bool = True) -> None:
        if output_format not in OUTPUT_FORMATS:
            raise AudioError(
                f"unsupported audio format {output_format!r}; supported: {', '.join(OUTPUT_FORMATS)}",
                details={"supported": list(OUTPUT_FORMATS)},
            )
        self.output_format = output_format
        self.input_rate_hz = sample_rate_hz
        self._header_sent = False
        self._sink = _WriteOnlySink() if streaming else None
        self._buffer = io.BytesIO()
        self._container: av.container.OutputContainer | None = None
        self.output_rate_hz = sample_rate_hz
        if output_format in _CONTAINERS:
            container_name, codec, rates = _CONTAINERS[output_format]
            if rates and sample_rate_hz not in rates:
                self.output_rate_hz = min(
                    rates, key=lambda rate: (rate < sample_rate_hz, abs(rate - sample_rate_hz))
                )
            self._container = av.open(self._sink or self._buffer, mode="w", format=container_name)
            stream = self._container.add_stream(codec, rate=self.output_rate_hz)
            assert isinstance(stream, av.audio.stream.AudioStream)
            self._stream = stream
            self._stream.layout = "mono"
            self._stream.format = "s16" if codec != "libmp3lame" else "s16p"
            self._pts = 0

    def encode(self, audio: PcmAudio) -> bytes:
        """Encode one chunk; returns what can already be sent (maybe nothing)."""
        if self._container is None:
            if self.output_format == "wav" and not self._header_sent:
                self._header_sent = True
                return wav_header(self.input_rate_hz) + audio.pcm_s16le
            return audio.pcm_s16le
        if audio.sample_rate_hz != self.output_rate_hz:
            audio = resample(audio, self.output_rate_hz)
        if audio.sample_count:
            frame = av.AudioFrame.from_ndarray(audio.samples().reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = self.output_rate_hz
            frame.pts = self._pts
            self._pts += audio.sample_count
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._drain()

    def finish(self) -> bytes:
        """Flush the encoder and close the file; returns the last bytes."""
        if self._container is None:
            if self.output_format == "wav" and not self._header_sent:
                self._header_sent = True
                return wav_header(self.input_rate_hz)
            return b""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None
        return self._drain()

    def _drain(self) -> bytes:
        if self._sink is not None:
            return self._sink.take()
        return b"" if self._container is not None else self._buffer.getvalue()


def encode_audio(audio: PcmAudio, output_format: str) -> bytes:
    """Encode a whole clip; a WAV gets its real length in the header."""
    if output_format == "wav":
        return encode_wav(audio)
    encoder = AudioEncoder(output_format, audio.sample_rate_hz, streaming=False)
    return encoder.encode(audio) + encoder.finish()


def peak_dbfs(audio: PcmAudio) -> float:
    """Loudest sample relative to full scale, for checks that audio is not silent."""
    if not audio.sample_count:
        return float("-inf")
    peak = int(np.abs(audio.samples().astype(np.int32)).max())
    return float(20 * np.log10(max(peak, 1) / 32768))
