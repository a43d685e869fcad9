"""espeak-ng text to speech, in process through libespeak-ng: every language espeak knows, Polish included."""

from __future__ import annotations

import asyncio
import ctypes
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from voxhub.audio import PcmAudio
from voxhub.config import env_name
from voxhub.engines.tts.base import TtsCapabilities, require_speed, require_text, unknown_voice
from voxhub.errors import ConfigError, EngineError, InputError, ModelError

if TYPE_CHECKING:
    from voxhub.config import Settings

LIBRARY_NAME = "libespeak-ng.so.1"
NORMAL_WORDS_PER_MINUTE = 175  # espeakRATE_NORMAL; espeak accepts 80 to 450
_MIN_WORDS_PER_MINUTE, _MAX_WORDS_PER_MINUTE = 80, 450

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_INITIALIZE_DONT_EXIT = 0x8000
_BUFFER_MS = 100
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_PARAMETER_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7

_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|\n+")


class _EventId(ctypes.Union):
    _fields_: ClassVar = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_: ClassVar = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of this synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_: ClassVar = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated language) pairs, then a zero byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True, slots=True)
class SpeechMark:
    """A word or phoneme espeak spoke, and where in the audio it starts."""

    kind: Literal["word", "phoneme"]
    audio_ms: float
    text_start: int  # character offset into the chunk's text
    text_length: int  # words only
    phoneme: str  # IPA, phonemes only; empty for a pause


@dataclass(frozen=True, slots=True)
class MarkedSpeech:
    """One sentence of speech with its word and phoneme marks."""

    text: str
    audio: PcmAudio
    marks: tuple[SpeechMark, ...]


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    name: str  # the identifier's last part, e.g. `en-us`; espeak_SetVoiceByName accepts it
    title: str  # e.g. `English (America)`
    languages: tuple[tuple[int, str], ...]  # (priority, language); lower priority is a better match


class _Library:
    """libespeak-ng, initialized once per process; its state is global, so every call holds `lock`."""

    lock = threading.Lock()

    def __init__(self, library: ctypes.CDLL) -> None:
        self._lib = library
        library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        library.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        library.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
        with self.lock:
            self.sample_rate_hz = int(
                library.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, None, options)
            )
            if self.sample_rate_hz <= 0:
                raise ModelError(
                    "espeak-ng could not start (is espeak-ng-data installed?): `apt-get install espeak-ng`"
                )
            self._pcm: list[bytes] = []
            self._marks: list[SpeechMark] = []
            self._callback = _Callback(self._collect)  # kept referenced: espeak holds only the raw pointer
            library.espeak_SetSynthCallback(self._callback)
            self.voices = self._list_voices()

    def speak(self, text: str, voice: str, words_per_minute: int) -> tuple[bytes, tuple[SpeechMark, ...]]:
        """`text` spoken by `voice`: PCM s16le at `sample_rate_hz` and the marks espeak reported."""
        encoded = text.encode("utf-8")
        with self.lock:
            self._pcm, self._marks = [], []
            if self._lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
                raise EngineError(f"espeak-ng could not select the voice {voice!r}")
            self._lib.espeak_SetParameter(_PARAMETER_RATE, words_per_minute, 0)
            status = self._lib.espeak_Synth(
                encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
            )
            if status != 0:
                raise EngineError(f"espeak-ng failed to synthesize (error {status})")
            return b"".join(self._pcm), tuple(self._marks)

    def _collect(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        """espeak's callback (on the synthesizing thread, with `lock` held): keep the audio and the marks."""
        if wav and count > 0:
            self._pcm.append(ctypes.string_at(wav, 2 * count))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                self._marks.append(
                    SpeechMark("word", float(event.audio_position), event.text_position - 1, event.length, "")
                )
            elif event.type == _EVENT_PHONEME:
                phoneme = event.id.string.decode("utf-8", errors="ignore")
                self._marks.append(
                    SpeechMark("phoneme", float(event.audio_position), event.text_position - 1, 0, phoneme)
                )
            index += 1
        return 0  # 0: go on synthesizing

    def _list_voices(self) -> tuple[EspeakVoice, ...]:
        voices = []
        listing = self._lib.espeak_ListVoices(None)
        index = 0
        while listing[index]:
            voice = listing[index].contents
            languages = []
            address = voice.languages
            while priority := ctypes.c_ubyte.from_address(address).value:
                language = ctypes.string_at(address + 1)
                languages.append((priority, language.decode("utf-8").lower()))
                address += len(language) + 2
            identifier = (voice.identifier or b"").decode("utf-8")
            name = identifier.rsplit("/", 1)[-1].lower()
            voices.append(EspeakVoice(name, (voice.name or b"").decode("utf-8"), tuple(languages)))
            index += 1
        return tuple(voices)


_libraries: dict[str, _Library] = {}
_libraries_lock = threading.Lock()


def open_library(name: str) -> _Library:
    """libespeak-ng loaded and initialized (once per process), or ModelError saying how to install it."""
    with _libraries_lock:
        if name not in _libraries:
            try:
                library = ctypes.CDLL(name)
            except OSError as exc:
                raise ModelError(
                    f"the espeak-ng library ({name}) is not installed: `apt-get install espeak-ng` ({exc})",
                    details={"library": name},
                ) from None
            _libraries[name] = _Library(library)
        return _libraries[name]


def words_per_minute(speed: float) -> int:
    require_speed(speed)
    return max(_MIN_WORDS_PER_MINUTE, min(_MAX_WORDS_PER_MINUTE, round(NORMAL_WORDS_PER_MINUTE * speed)))


def split_sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_END.split(text) if sentence.strip()]


class EspeakTts:
    """Speaks any language espeak-ng knows, one chunk per sentence, with word and phoneme marks."""

    name = "espeak"
    library_name: ClassVar[str] = LIBRARY_NAME

    def __init__(self, library: _Library, *, default_voice: str, speed: float) -> None:
        self._library = library
        self._default_voice = default_voice
        self._speed = speed
        self._voices = {voice.name: voice for voice in library.voices}
        self._by_title = {voice.title.lower(): voice.name for voice in library.voices}
        self._by_language: dict[str, str] = {}
        best: dict[str, int] = {}
        for voice in library.voices:
            for priority, language in voice.languages:
                if priority < best.get(language, 1 << 30):
                    best[language] = priority
                    self._by_language[language] = voice.name
        self.capabilities = TtsCapabilities(
            model="espeak-ng",
            sample_rate_hz=library.sample_rate_hz,
            languages=tuple(sorted(self._by_language)),
            voices=tuple(sorted(self._voices)),
            streaming=True,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        library = open_library(cls.library_name)
        probe = cls(library, default_voice="", speed=settings.tts_speed)
        if settings.tts_voice:
            voice = probe.voice_named(settings.tts_voice)
            if voice is None:
                raise unknown_voice(
                    "espeak-ng", settings.tts_voice, probe.capabilities.voices, from_setting=True
                )
        else:
            voice = probe.voice_for_language(settings.tts_language)
            if voice is None:
                raise ConfigError(
                    f"tts_language ({env_name('tts_language')}): espeak-ng does not speak {settings.tts_language!r}",
                    details={"setting": "tts_language"},
                )
        return cls(library, default_voice=voice, speed=settings.tts_speed)

    def voice_named(self, name: str) -> str | None:
        """The voice called `name` (its short name like `en-us`, or its title like `Polish`)."""
        key = name.strip().lower()
        return key if key in self._voices else self._by_title.get(key)

    def voice_for_language(self, language: str) -> str | None:
        """The voice espeak ranks best for `language` (`pl`, `en-US`, `pt_BR`), else for its primary subtag."""
        tag = language.strip().replace("_", "-").lower()
        return self._by_language.get(tag) or self._by_language.get(tag.split("-")[0])

    async def warm_up(self) -> None:
        async for _ in self.synthesize("Ready."):
            pass

    async def synthesize(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[PcmAudio]:
        """Stream the speech for `text`, one chunk per sentence; raises EmptyTextError for blank text."""
        async for sentence in self.synthesize_marked(text, voice=voice, language=language, speed=speed):
            yield sentence.audio

    async def synthesize_marked(
        self, text: str, *, voice: str | None = None, language: str | None = None, speed: float | None = None
    ) -> AsyncIterator[MarkedSpeech]:
        """Like `synthesize`, with the words and phonemes of each sentence placed in its audio."""
        text = require_text(text)
        chosen = self._choose_voice(voice, language)
        rate = words_per_minute(self._speed if speed is None else speed)
        for sentence in split_sentences(text):
            pcm, marks = await asyncio.to_thread(self._library.speak, sentence, chosen, rate)
            if pcm:
                yield MarkedSpeech(sentence, PcmAudio(pcm, self._library.sample_rate_hz), marks)

    async def aclose(self) -> None:
        """Nothing to free: the library stays loaded for the process (its state is global)."""

    def _choose_voice(self, voice: str | None, language: str | None) -> str:
        if voice is not None:
            named = self.voice_named(voice)
            if named is None:
                raise unknown_voice("espeak-ng", voice, self.capabilities.voices)
            return named
        if language is not None:
            spoken = self.voice_for_language(language)
            if spoken is None:
                raise InputError(f"espeak-ng does not speak {language!r}", details={"language": language})
            return spoken
        return self._default_voice
