"""A small file can hold hours of audio: decoding holds it to `max_secs`, from its header or frame by frame."""

from __future__ import annotations

import tracemalloc

import pytest

from tests.audio import ffmpeg
from tests.speech import espeak_speech
from voxhub.audio import PcmAudio, decode_audio, encode_audio
from voxhub.errors import AudioTooLongError

HOUR_SECS = 3600
HOUR_AT_8KHZ_BYTES = HOUR_SECS * 8000 * 2  # what the whole hour decodes to: 57.6 MB


@pytest.mark.parametrize(
    "codec",
    [ffmpeg.FLAC, ffmpeg.OGG_OPUS, ffmpeg.MP3, ffmpeg.IMA_ADPCM_WAV],
    ids=["flac", "ogg-opus", "mp3", "ima-adpcm-wav"],
)
def test_a_file_that_declares_an_hour_is_refused_before_decoding(codec: tuple[str, ...]) -> None:
    hour = ffmpeg.silence(HOUR_SECS, codec)

    with pytest.raises(AudioTooLongError, match=r"limit of 600 s \(max_audio_secs\)") as refused:
        decode_audio(hour, max_secs=600)

    assert refused.value.status_code == 413
    assert refused.value.details["declared_secs"] == pytest.approx(HOUR_SECS, abs=1)
    assert refused.value.details["decoded_samples"] == 0


@pytest.mark.parametrize("codec", [ffmpeg.FLAC, ffmpeg.MP3], ids=["flac", "mp3"])
def test_a_file_that_hides_its_length_stops_decoding_at_the_limit(codec: tuple[str, ...]) -> None:
    hour = ffmpeg.silence(HOUR_SECS, codec, streamed=True)  # no length in its header

    tracemalloc.start()
    try:
        with pytest.raises(AudioTooLongError, match="decoding stopped after 60") as refused:
            decode_audio(hour, max_secs=60)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert 60 <= refused.value.details["decoded_secs"] <= 61
    assert peak_bytes < HOUR_AT_8KHZ_BYTES / 10  # the hour was never held in memory


def test_a_webm_is_held_to_the_limit_while_decoding() -> None:
    audio = decode_audio(ffmpeg.silence(90, ffmpeg.WEBM_OPUS, streamed=True), max_secs=100)
    assert audio.duration_secs == pytest.approx(90, abs=0.1)

    with pytest.raises(AudioTooLongError) as refused:
        decode_audio(ffmpeg.silence(90, ffmpeg.WEBM_OPUS, streamed=True), max_secs=30)
    assert 30 <= refused.value.details["decoded_secs"] <= 31


def test_a_plain_wav_over_the_limit_is_refused_from_its_size() -> None:
    wav = encode_audio(PcmAudio.silence(5000, 16000), "wav")

    with pytest.raises(AudioTooLongError) as refused:
        decode_audio(wav, max_secs=2)

    assert refused.value.details == {"limit_secs": 2, "declared_secs": 5.0, "decoded_samples": 0}


@pytest.mark.parametrize("output_format", ["wav", "flac", "opus", "mp3"])
def test_speech_within_the_limit_decodes_in_full(output_format: str) -> None:
    speech = espeak_speech("turn on the kitchen lights")

    audio = decode_audio(encode_audio(speech, output_format), max_secs=speech.duration_secs)

    assert audio.duration_secs == pytest.approx(speech.duration_secs, abs=0.1)


def test_an_mp3_whose_length_is_only_guessed_is_not_refused_for_the_guess() -> None:
    # A VBR mp3 with no Xing header that starts quietly: FFmpeg guesses it lasts several times its length.
    quiet_then_noise = [
        *(
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=mono:d=20",
            "-f",
            "lavfi",
            "-i",
            "anoisesrc=r=44100:d=40",
        ),
        *("-filter_complex", "[0][1]concat=n=2:v=0:a=1", "-c:a", "libmp3lame", "-q:a", "0", "-f", "mp3", "-"),
    ]
    mp3 = ffmpeg.run(quiet_then_noise)

    audio = decode_audio(mp3, max_secs=90)

    assert audio.duration_secs == pytest.approx(60, abs=0.2)


def test_audio_above_48_khz_is_decoded_at_48_khz() -> None:
    hi_res = encode_audio(PcmAudio.silence(1000, 96000), "flac")
    audio = decode_audio(hi_res, max_secs=10)
    assert (audio.sample_rate_hz, audio.sample_count) == (48000, 48000)
