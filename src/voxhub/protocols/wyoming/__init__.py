"""Wyoming, Home Assistant's local voice protocol: asr, tts, wake and handle on one TCP port."""

from __future__ import annotations
