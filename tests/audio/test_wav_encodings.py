"""WAV files in the encodings telephony and old recorders use (mu-law, A-law, IMA and MS ADPCM) decode and
transcribe: what the built-in reader does not know, FFmpeg decodes."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.api.error_shape import assert_error
from tests.audio import ffmpeg
from tests.speech import espeak_speech, padded, word_error_rate
from voxhub.audio import PcmAudio, decode_audio
from voxhub.errors import AudioError

SENTENCE = "turn on the kitchen lights"
# (ffmpeg encoder, the WAV format tag it writes)
ENCODINGS = {
    "mu-law": ("pcm_mulaw", 7),
    "a-law": ("pcm_alaw", 6),
    "ima-adpcm": ("adpcm_ima_wav", 0x11),
    "ms-adpcm": ("adpcm_ms", 2),
}


def speech() -> PcmAudio:
    return padded(espeak_speech(SENTENCE), before_ms=300, after_ms=300)


def wav_in(encoding: str, audio: PcmAudio) -> bytes:
    codec, tag = ENCODINGS[encoding]
    wav = ffmpeg.transcoded(audio, ("-c:a", codec, "-f", "wav"))
    assert int.from_bytes(wav[20:22], "little") == tag  # the file really is in that encoding
    return wav


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_wav_in_a_compressed_encoding_decodes_to_the_same_speech(encoding: str) -> None:
    original = speech()

    audio = decode_audio(wav_in(encoding, original))

    assert audio.sample_rate_hz == 16000
    assert audio.duration_secs == pytest.approx(original.duration_secs, abs=0.15)  # ADPCM pads its last block
    length = min(audio.sample_count, original.sample_count)
    correlation = np.corrcoef(audio.to_float32()[:length], original.to_float32()[:length])[0, 1]
    assert correlation > 0.95


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_a_wav_in_a_compressed_encoding_transcribes(client: httpx.AsyncClient, encoding: str) -> None:
    wav = wav_in(encoding, speech())

    response = await client.post("/v1/audio/transcriptions", files={"file": ("call.wav", wav, "audio/wav")})

    assert response.status_code == 200, response.text
    assert word_error_rate(SENTENCE, response.json()["text"]) <= 0.2


def _wav_with_tag(tag: int) -> bytes:
    fmt = tag.to_bytes(2, "little") + (1).to_bytes(2, "little") + (16000).to_bytes(4, "little")
    fmt += (16000).to_bytes(4, "little") + (1).to_bytes(2, "little") + (8).to_bytes(2, "little")
    body = (
        b"WAVEfmt "
        + len(fmt).to_bytes(4, "little")
        + fmt
        + b"data"
        + (800).to_bytes(4, "little")
        + bytes(800)
    )
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def test_a_wav_encoding_nobody_knows_is_refused_naming_its_format_tag() -> None:
    with pytest.raises(AudioError, match="unsupported WAV encoding \\(format tag 4660") as refused:
        decode_audio(_wav_with_tag(0x1234))
    assert refused.value.details["format_tag"] == 0x1234


async def test_a_wav_encoding_nobody_knows_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/audio/transcriptions", files={"file": ("odd.wav", _wav_with_tag(0x1234))}
    )
    assert_error(response, 400, "invalid_audio")
