"""Any common audio file decodes to mono s16le at its own rate; PcmAudio encodes to every output format."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from voxhub.audio import OUTPUT_FORMATS, AudioEncoder, PcmAudio, decode_audio, encode_audio, peak_dbfs
from voxhub.errors import AudioError


def tone(frequency_hz: float = 440.0, duration_secs: float = 0.5, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(duration_secs * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def wav_bytes(
    samples: np.ndarray, rate: int, *, width: int, channels: int = 1, float_format: bool = False
) -> bytes:
    """A WAV written by hand, so 24-bit and float files can be made too."""
    interleaved = np.repeat(samples, channels)
    if float_format:
        data = interleaved.astype("<f4").tobytes()
    elif width == 1:
        data = (interleaved * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        values = (interleaved * (2**23 - 1)).astype("<i4")
        data = b"".join(int(v).to_bytes(4, "little", signed=True)[:3] for v in values)
    else:
        data = (interleaved * (2 ** (8 * width - 1) - 1)).astype(f"<i{width}").tobytes()
    tag = 3 if float_format else 1
    bits = 32 if float_format else 8 * width
    block = channels * bits // 8
    header = b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
    header += tag.to_bytes(2, "little") + channels.to_bytes(2, "little") + rate.to_bytes(4, "little")
    header += (rate * block).to_bytes(4, "little") + block.to_bytes(2, "little") + bits.to_bytes(2, "little")
    return header + b"data" + len(data).to_bytes(4, "little") + data


@pytest.mark.parametrize(
    ("width", "channels", "float_format", "rate"),
    [
        (1, 1, False, 8000),
        (2, 2, False, 44100),
        (3, 1, False, 48000),
        (4, 2, False, 16000),
        (4, 1, True, 22050),
    ],
    ids=["8-bit", "16-bit stereo", "24-bit", "32-bit stereo", "float"],
)
def test_every_wav_flavour_decodes_to_the_same_mono_signal(
    width: int, channels: int, float_format: bool, rate: int
) -> None:
    original = tone(rate=rate)
    audio = decode_audio(wav_bytes(original, rate, width=width, channels=channels, float_format=float_format))
    assert audio.sample_rate_hz == rate
    assert audio.sample_count == len(original)
    assert np.allclose(audio.to_float32(), original, atol=0.02)  # 8-bit steps are 1/128


@pytest.mark.parametrize("output_format", ["mp3", "opus", "flac"])
def test_compressed_audio_round_trips(output_format: str) -> None:
    clip = PcmAudio.from_float32(tone(duration_secs=1.0), 16000)
    decoded = decode_audio(encode_audio(clip, output_format))
    assert abs(decoded.duration_secs - 1.0) < 0.1
    assert peak_dbfs(decoded) > -10


def test_encoded_wav_is_a_standard_16_bit_file() -> None:
    clip = PcmAudio.from_float32(tone(), 24000)
    with wave.open(io.BytesIO(encode_audio(clip, "wav"))) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 24000)
        assert reader.getnframes() == clip.sample_count


def test_raw_pcm_output_is_the_samples_themselves() -> None:
    clip = PcmAudio.from_float32(tone(), 16000)
    assert encode_audio(clip, "pcm") == clip.pcm_s16le


def test_streamed_mp3_arrives_in_pieces_that_decode_as_one_file() -> None:
    encoder = AudioEncoder("mp3", 24000)
    pieces = [encoder.encode(PcmAudio.from_float32(tone(rate=24000), 24000)) for _ in range(4)]
    pieces.append(encoder.finish())
    assert sum(1 for piece in pieces if piece) >= 2
    assert abs(decode_audio(b"".join(pieces)).duration_secs - 2.0) < 0.15


def test_an_unsupported_output_format_lists_the_supported_ones() -> None:
    with pytest.raises(AudioError, match="unsupported audio format 'aiff'") as caught:
        AudioEncoder("aiff", 16000)
    assert caught.value.details["supported"] == list(OUTPUT_FORMATS)


def test_a_truncated_wav_header_is_reported_as_corrupt() -> None:
    with pytest.raises(AudioError, match="corrupt WAV"):
        decode_audio(wav_bytes(tone(), 16000, width=2)[:30])


def test_garbage_bytes_are_unsupported_or_corrupt_audio() -> None:
    with pytest.raises(AudioError, match="unsupported or corrupt audio"):
        decode_audio(bytes(range(256)) * 40)


@pytest.mark.parametrize(
    "data", [b"", wav_bytes(np.zeros(0, np.float32), 16000, width=2)], ids=["no bytes", "no samples"]
)
def test_empty_audio_is_an_error(data: bytes) -> None:
    with pytest.raises(AudioError, match="empty"):
        decode_audio(data)
