"""An openWakeWord classifier in ONNX form (the format openWakeWord's trainer also writes), on onnxruntime.

It takes the same speech embeddings as the TensorFlow Lite classifiers and keeps the same window, so a
custom `.onnx` model is scored exactly like a bundled `.tflite` one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

_FEATURES = 96  # values per speech embedding


class OnnxWakeWord:
    """Scores the last `input_windows` embeddings each time one arrives."""

    def __init__(self, model_path: Path) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        windows = model_input.shape[1]
        self.input_windows = windows if isinstance(windows, int) else 16
        self._window = np.zeros((1, self.input_windows, _FEATURES), dtype=np.float32)
        self._filled = 0

    def process_streaming(self, embeddings: Any) -> Iterator[float]:
        for vector in np.asarray(embeddings, dtype=np.float32).reshape(-1, _FEATURES):
            self._window[0, :-1] = self._window[0, 1:]
            self._window[0, -1] = vector
            self._filled = min(self.input_windows, self._filled + 1)
            if self._filled == self.input_windows:
                (scores,) = self._session.run(None, {self._input_name: self._window})
                yield float(np.asarray(scores).reshape(-1)[0])

    def reset(self) -> None:
        self._window[:] = 0.0
        self._filled = 0
