"""Language tags as voxhub compares them."""

from __future__ import annotations


def language_code(language: str) -> str:
    """The ISO 639-1 part of a language tag: `en-US` and `en_us` both give `en`."""
    return language.strip().replace("_", "-").split("-")[0].lower()
