"""Whisper's log-mel features in numpy, for smart-turn: 80 mel bands, 25 ms windows every 10 ms, 8 s.

The standard recipe (as in the Whisper paper's code): a centred STFT with a periodic Hann window, the power
spectrum projected onto Slaney-normalised mel filters, log10, clamped to 8 decades below the peak and
scaled to about [-1, 1]. The waveform is first normalised to zero mean and unit variance, as smart-turn's
training features were.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

RATE_HZ = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
SECONDS = 8
SAMPLES = SECONDS * RATE_HZ


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    linear = 3.0 * hz / 200.0
    log_part = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) * (27.0 / np.log(6.4))
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = 200.0 * mel / 3.0
    log_part = 1000.0 * np.exp((mel - 15.0) * (np.log(6.4) / 27.0))
    return np.where(mel >= 15.0, log_part, linear)


@cache
def mel_filters() -> npt.NDArray[np.float64]:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, each normalised to unit area (Slaney)."""
    bins = np.linspace(0.0, RATE_HZ / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(RATE_HZ / 2)), N_MELS + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return triangles * (2.0 / (upper - lower))


@cache
def _window() -> npt.NDArray[np.float64]:
    n = np.arange(N_FFT)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)  # periodic Hann


def last_seconds(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The last 8 s of the audio, zeros before it when it is shorter (smart-turn hears the turn's end)."""
    if samples.size >= SAMPLES:
        return samples[-SAMPLES:]
    return np.concatenate([np.zeros(SAMPLES - samples.size, np.float32), samples])


def log_mel(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """(N_MELS, 800) features of exactly `SAMPLES` samples of 16 kHz audio in [-1, 1]."""
    audio = samples.astype(np.float32)
    audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
    padded = np.pad(audio.astype(np.float64), N_FFT // 2, mode="reflect")
    count = 1 + (padded.size - N_FFT) // HOP
    starts = np.arange(count) * HOP
    frames = padded[starts[:, None] + np.arange(N_FFT)[None, :]]
    power = np.abs(np.fft.rfft(frames * _window(), axis=1)) ** 2  # (frames, bins)
    mel = np.log10(np.maximum(mel_filters() @ power.T, 1e-10))[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    scaled: npt.NDArray[np.float32] = ((mel + 4.0) / 4.0).astype(np.float32)
    return scaled
