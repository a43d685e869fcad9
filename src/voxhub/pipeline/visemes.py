"""Mouth shapes (visemes) for speech, timed against its audio: from espeak's phonemes or from the spelling.

The set is the 15 visemes widely used for lip sync (Oculus/Meta's): `sil` (mouth at rest) and the shapes of
PP (p b m), FF (f v), TH, DD (t d), kk (k g), CH (ch j sh), SS (s z), nn (n l), RR (r), aa, E, ih, oh, ou.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")

# IPA symbols (as espeak-ng reports them) to visemes; diacritics and length marks are stripped first.
_IPA: dict[str, str] = {
    **dict.fromkeys("pbmɓ", "PP"),
    **dict.fromkeys("fvɱ", "FF"),
    **dict.fromkeys("θð", "TH"),
    **dict.fromkeys("tdɾʈɖ", "DD"),
    **dict.fromkeys("kgɡŋxɣqɢʔhɦç", "kk"),
    **dict.fromkeys("ʃʒʧʤɕʑʂʐ", "CH"),
    **dict.fromkeys("sz", "SS"),
    **dict.fromkeys("nlɲɳɫʎ", "nn"),
    **dict.fromkeys("rɹɻʁʀ", "RR"),
    **dict.fromkeys("aɑɐæʌɒ", "aa"),
    **dict.fromkeys("eɛəɜɚɝ", "E"),
    **dict.fromkeys("iɪyʏɨj", "ih"),
    **dict.fromkeys("oɔøœɤ", "oh"),
    **dict.fromkeys("uʊɯwʉ", "ou"),
}
# Spelling to visemes, for TTS engines that report no phonemes: digraphs first, then single letters.
_DIGRAPHS: dict[str, str] = {
    "th": "TH", "sh": "CH", "ch": "CH", "ph": "FF", "ng": "kk", "ck": "kk", "qu": "kk",
    "ee": "ih", "ea": "ih", "oo": "ou", "ou": "ou", "ow": "oh", "oa": "oh", "ai": "E", "ay": "E",
    "cz": "CH", "sz": "CH", "rz": "CH",
}  # fmt: skip
_LETTERS: dict[str, str] = {
    **dict.fromkeys("pbm", "PP"),
    **dict.fromkeys("fvw", "FF"),
    **dict.fromkeys("td", "DD"),
    **dict.fromkeys("kgcqxh", "kk"),
    **dict.fromkeys("j", "CH"),
    **dict.fromkeys("sz", "SS"),
    **dict.fromkeys("nl", "nn"),
    "r": "RR",
    "a": "aa",
    "e": "E",
    **dict.fromkeys("iy", "ih"),
    "o": "oh",
    "u": "ou",
}
_VOWELS = frozenset({"aa", "E", "ih", "oh", "ou"})
_WORD = re.compile(r"[^\W\d_]+|\d+")
VOWEL_WEIGHT = 2.0  # vowels last about twice as long as consonants
PAUSE_WEIGHT = 1.0  # between words
MIN_VISEME_MS = 30.0  # shorter shapes are merged into their neighbours; no mouth moves that fast


@dataclass(frozen=True, slots=True)
class Viseme:
    """One mouth shape, from `start_ms` after the start of the audio it belongs to."""

    viseme: str
    start_ms: float
    duration_ms: float

    def shifted(self, offset_ms: float) -> Viseme:
        return Viseme(self.viseme, self.start_ms + offset_ms, self.duration_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "viseme": self.viseme,
            "start_ms": round(self.start_ms, 1),
            "duration_ms": round(self.duration_ms, 1),
        }


def phoneme_viseme(phoneme: str) -> str:
    """The viseme of one IPA phoneme (its first sounding symbol decides); `sil` for a pause or unknown."""
    for char in unicodedata.normalize("NFD", phoneme):
        if (viseme := _IPA.get(char)) is not None:
            return viseme
    return "sil"


def letters_visemes(word: str) -> list[str]:
    """The visemes a word's spelling suggests, one per letter or digraph (silent letters are not guessed)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))
    shapes: list[str] = []
    index = 0
    while index < len(plain):
        pair = plain[index : index + 2]
        if len(pair) == 2 and pair in _DIGRAPHS:
            shapes.append(_DIGRAPHS[pair])
            index += 2
            continue
        shape = _LETTERS.get(plain[index])
        if shape is not None:
            shapes.append(shape)
        index += 1
    return shapes


def text_visemes(text: str, duration_ms: float) -> list[Viseme]:
    """Visemes for `text` spoken in `duration_ms`, from its spelling: vowels get twice a consonant's time."""
    weighted: list[tuple[str, float]] = []
    for match in _WORD.finditer(text):
        if weighted:
            weighted.append(("sil", PAUSE_WEIGHT))
        token = match.group()
        shapes = ["DD", "ih", "oh"] * len(token) if token.isdigit() else letters_visemes(token)
        weighted.extend((shape, VOWEL_WEIGHT if shape in _VOWELS else 1.0) for shape in shapes)
    total = sum(weight for _, weight in weighted)
    if total <= 0 or duration_ms <= 0:
        return []
    scale = duration_ms / total
    track, at = [], 0.0
    for shape, weight in weighted:
        track.append(Viseme(shape, at, weight * scale))
        at += weight * scale
    return merged(track)


def marked_visemes(phonemes: Iterable[tuple[float, str]], duration_ms: float) -> list[Viseme]:
    """Visemes from (start ms, IPA phoneme) marks, e.g. espeak-ng's phoneme events; each lasts to the next."""
    marks = sorted((start, phoneme) for start, phoneme in phonemes if 0 <= start < duration_ms)
    track = [
        Viseme(
            phoneme_viseme(phoneme), start, (marks[i + 1][0] if i + 1 < len(marks) else duration_ms) - start
        )
        for i, (start, phoneme) in enumerate(marks)
    ]
    return merged([v for v in track if v.duration_ms > 0])


def merged(track: Sequence[Viseme]) -> list[Viseme]:
    """Neighbours with the same shape joined, and shapes under MIN_VISEME_MS folded into the one before."""
    out: list[Viseme] = []
    for viseme in track:
        if out and (out[-1].viseme == viseme.viseme or viseme.duration_ms < MIN_VISEME_MS):
            last = out[-1]
            out[-1] = Viseme(last.viseme, last.start_ms, viseme.start_ms + viseme.duration_ms - last.start_ms)
        else:
            out.append(viseme)
    return out


def track_dicts(track: Iterable[Viseme], offset_ms: float = 0.0) -> list[dict[str, Any]]:
    """A track as JSON-ready dicts, shifted by `offset_ms` (where its audio starts in the turn's audio)."""
    return [viseme.shifted(offset_ms).to_dict() for viseme in track]
