"""Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, without torch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

from voxhub.models.store import bundled_file, wheel_file

EMBEDDING_MODEL = "minilm-int8"
TOKENIZER_MODEL = "minilm-tokenizer"
_MAX_TOKENS = 128  # what all-MiniLM-L6-v2 was trained on; longer text is cut

FloatArray = npt.NDArray[np.float32]


class SentenceEncoder:
    """Turns sentences into L2-normalised 384-d vectors (mean of token states, padding masked out).

    One onnxruntime session run on one thread; `InferenceSession.run` and `Tokenizer.encode_batch`
    are safe to call from several threads at once, so one encoder serves every session.
    """

    def __init__(self, model_path: Path, tokenizer_path: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {node.name for node in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # the shipped tokenizer pads every input to 128 tokens; pad only to the longest in a batch instead
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer = tokenizer

    @classmethod
    def load(cls, models_root: Path) -> SentenceEncoder:
        """Load the verified model (a dependency) and tokenizer (`voxhub models install minilm-tokenizer`)."""
        return cls(bundled_file(EMBEDDING_MODEL), wheel_file(TOKENIZER_MODEL, models_root))

    def encode(self, sentences: Sequence[str]) -> FloatArray:
        """One unit-length row per sentence."""
        encodings = self._tokenizer.encode_batch(list(sentences))
        input_ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (states,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (np.asarray(states, dtype=np.float32) * weights).sum(axis=1) / np.maximum(
            weights.sum(axis=1), 1e-9
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: FloatArray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result
