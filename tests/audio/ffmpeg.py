"""Audio files made by the ffmpeg command line (an independent encoder), for tests of what voxhub decodes."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from voxhub.audio import PcmAudio, encode_audio

# The codec and container options of each kind of file the tests make.
FLAC = ("-c:a", "flac", "-f", "flac")
MP3 = ("-c:a", "libmp3lame", "-b:a", "8k", "-f", "mp3")
_FAST_OPUS = ("-c:a", "libopus", "-b:a", "6k", "-compression_level", "0", "-frame_duration", "60")
OGG_OPUS = (*_FAST_OPUS, "-f", "ogg")
WEBM_OPUS = (*_FAST_OPUS, "-f", "webm")
IMA_ADPCM_WAV = ("-c:a", "adpcm_ima_wav", "-f", "wav")


def run(args: Sequence[str], stdin: bytes = b"") -> bytes:
    """ffmpeg's standard output for these arguments."""
    program = shutil.which("ffmpeg")
    assert program, "ffmpeg is not installed: `make test` installs it with apt-get"
    interactive = [] if stdin else ["-nostdin"]  # without input, ffmpeg must not wait for keys on stdin
    command = [program, "-v", "error", *interactive, *args]
    return subprocess.run(command, input=stdin, capture_output=True, check=True).stdout


def _to_file(args: Sequence[str], stdin: bytes = b"") -> bytes:
    """What ffmpeg writes into a file: a seekable output, so its header can state the length at the end."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out"
        run([*args, "-y", str(path)], stdin)
        return path.read_bytes()


@functools.cache
def silence(secs: float, codec: tuple[str, ...], *, streamed: bool = False) -> bytes:
    """`secs` of digital silence at 8 kHz, in a file whose header states its length; `streamed` writes it
    through a pipe, as a live encoder does, so nothing goes back to state the length.

    Cached: an hour of Opus takes seconds to encode, and several test modules want the same bombs.
    """
    source = ("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", str(secs), *codec)
    return run([*source, "-"]) if streamed else _to_file(source)


def transcoded(audio: PcmAudio, codec: Sequence[str]) -> bytes:
    """`audio` re-encoded by ffmpeg (e.g. `-c:a pcm_mulaw -f wav`)."""
    return _to_file(["-f", "wav", "-i", "-", *codec], stdin=encode_audio(audio, "wav"))
