"""Engines, one small contract per stage (vad, wake, stt, tts, llm); loaded once per process, shared."""
