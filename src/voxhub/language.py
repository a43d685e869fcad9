"""Language tags as voxhub compares them, and the languages its speech models know."""

from __future__ import annotations

AUTO = (
    "auto"  # as a language: whichever one the speech turns out to be in (Whisper's language identification)
)

# Every language multilingual Whisper (tiny to large-v2) transcribes, by its ISO 639-1 code (a few have none).
WHISPER_LANGUAGES = (
    "af",
    "am",
    "ar",
    "as",
    "az",
    "ba",
    "be",
    "bg",
    "bn",
    "bo",
    "br",
    "bs",
    "ca",
    "cs",
    "cy",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "eu",
    "fa",
    "fi",
    "fo",
    "fr",
    "gl",
    "gu",
    "ha",
    "haw",
    "he",
    "hi",
    "hr",
    "ht",
    "hu",
    "hy",
    "id",
    "is",
    "it",
    "ja",
    "jw",
    "ka",
    "kk",
    "km",
    "kn",
    "ko",
    "la",
    "lb",
    "ln",
    "lo",
    "lt",
    "lv",
    "mg",
    "mi",
    "mk",
    "ml",
    "mn",
    "mr",
    "ms",
    "mt",
    "my",
    "ne",
    "nl",
    "nn",
    "no",
    "oc",
    "pa",
    "pl",
    "ps",
    "pt",
    "ro",
    "ru",
    "sa",
    "sd",
    "si",
    "sk",
    "sl",
    "sn",
    "so",
    "sq",
    "sr",
    "su",
    "sv",
    "sw",
    "ta",
    "te",
    "tg",
    "th",
    "tk",
    "tl",
    "tr",
    "tt",
    "uk",
    "ur",
    "uz",
    "vi",
    "yi",
    "yo",
    "zh",
)

# English names, for telling a language model which language to answer in.
_NAMES = {
    "ar": "Arabic",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hu": "Hungarian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}


def language_code(language: str) -> str:
    """The ISO 639-1 part of a language tag: `en-US` and `en_us` both give `en`."""
    return language.strip().replace("_", "-").split("-")[0].lower()


def is_auto(language: str | None) -> bool:
    """True for `auto` (any case): the language is to be detected from the speech."""
    return language is not None and language.strip().lower() == AUTO


def first_language(*languages: str | None) -> str | None:
    """The first of `languages` that names one (not None, empty or `auto`)."""
    return next((language for language in languages if language and not is_auto(language)), None)


def language_name(language: str) -> str:
    """The English name of a language tag ("pl" → "Polish"); the code itself for one not listed."""
    code = language_code(language)
    return _NAMES.get(code, code)
