"""The emotion recognizer labels what a user says with joy, anger, sadness, fear, surprise or neutral."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from voxhub.agent.emotion import LABELS, Emotion, EmotionRecognizer
from voxhub.config import Settings
from voxhub.errors import ModelError

# Five sentences per label, none of them among the recognizer's prototypes; MIN_SIMILARITY was chosen on them.
LABELLED: dict[str, tuple[str, ...]] = {
    "joy": (
        "I got the job, I'm over the moon!",
        "This is the best birthday ever, thank you!",
        "I love how the garden looks this morning.",
        "We won the match, what a brilliant feeling!",
        "I'm so glad you're here with me.",
    ),
    "anger": (
        "This is the third time the heating broke, I'm livid.",
        "Shut up, you never listen to me!",
        "I can't stand how rude that man was.",
        "They cancelled my order again, this is outrageous.",
        "You keep getting it wrong and it makes me so mad.",
    ),
    "sadness": (
        "My dog died last night.",
        "I feel so alone since she left.",
        "Nothing I do seems to matter anymore.",
        "I didn't get in, I'm really disappointed.",
        "I just want to stay in bed and cry.",
    ),
    "fear": (
        "I think someone is trying to get into the house.",
        "I'm afraid of the surgery tomorrow.",
        "The storm is getting worse and I'm frightened.",
        "What if I lose my job next week?",
        "My heart is racing, I'm so nervous about the exam.",
    ),
    "surprise": (
        "Wait, you're telling me she's already here?",
        "Whoa, I never saw that coming!",
        "Really? The concert is tonight?",
        "I can't believe it snowed in May!",
        "Oh wow, that's unexpected!",
    ),
    "neutral": (
        "The meeting is at three.",
        "Turn off the lights in the bedroom.",
        "What time does the bus leave?",
        "Add milk to the shopping list.",
        "The train arrives at platform four.",
    ),
}


@pytest.fixture(scope="module")
def recognizer(models_dir: Path) -> EmotionRecognizer:
    return EmotionRecognizer.from_models_root(models_dir)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I'm so happy, this is wonderful!", "joy"),
        ("I'm furious, this stupid thing broke again!", "anger"),
        ("I feel so sad and lonely tonight.", "sadness"),
        ("I'm terrified, there's someone outside the window.", "fear"),
        ("Wow, I did not expect that at all!", "surprise"),
        ("The meeting is at three.", "neutral"),
    ],
)
def test_a_clear_utterance_gets_its_emotion(recognizer: EmotionRecognizer, text: str, label: str) -> None:
    assert recognizer.classify(text).label == label


def test_nine_in_ten_labelled_sentences_are_recognised(recognizer: EmotionRecognizer) -> None:
    results = [
        recognizer.classify(text).label == label for label, texts in LABELLED.items() for text in texts
    ]
    assert sum(results) / len(results) >= 0.9


def test_commands_and_small_talk_read_as_neutral(recognizer: EmotionRecognizer) -> None:
    for text in (
        "Lock the front door.",
        "Good morning.",
        "What can you do?",
        "Remind me to water the plants.",
    ):
        assert recognizer.classify(text).label == "neutral", text


def test_valence_is_positive_for_pleasant_and_negative_for_unpleasant_words(
    recognizer: EmotionRecognizer,
) -> None:
    assert recognizer.classify("I love this, it's brilliant!").valence > 0.5
    assert recognizer.classify("This is awful, I hate it.").valence < -0.5
    assert recognizer.classify("The meeting is at three.").valence == 0.0


def test_an_emotion_carries_a_known_label_and_a_confidence_between_zero_and_one(
    recognizer: EmotionRecognizer,
) -> None:
    emotion = recognizer.classify("Oh no, I'm scared of the dark.")
    assert emotion.label in LABELS
    assert 0.0 < emotion.confidence <= 1.0


def test_empty_text_is_neutral(recognizer: EmotionRecognizer) -> None:
    assert recognizer.classify("   ") == Emotion("neutral", 1.0, 0.0)


async def test_many_turns_can_be_classified_at_once_from_worker_threads(
    recognizer: EmotionRecognizer,
) -> None:
    texts = [text for texts in LABELLED.values() for text in texts]
    expected = [recognizer.classify(text) for text in texts]
    assert await asyncio.gather(*(asyncio.to_thread(recognizer.classify, text) for text in texts)) == expected


def test_a_missing_tokenizer_names_the_install_command(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models")
    with pytest.raises(
        ModelError, match=r"model file missing: .*tokenizer.json.*voxhub models install minilm-tokenizer"
    ):
        EmotionRecognizer.load(settings)
