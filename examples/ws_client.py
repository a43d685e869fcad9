"""A minimal voxhub WebSocket client: say a WAV file (or type a line) and save the spoken answer.

    python examples/ws_client.py question.wav --out answer.wav
    python examples/ws_client.py --text "What is the capital of France?"

Needs only the `websockets` package (installed with voxhub).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import wave
from pathlib import Path

import websockets

FRAME_MS = 20


async def converse(url: str, wav: Path | None, text: str | None, out: Path) -> None:
    rate = 16000
    if wav is not None:
        with wave.open(str(wav)) as reader:
            if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
                raise SystemExit(
                    "send a 16-bit mono WAV (e.g. `voxhub say ... -o q.wav` makes one at 24 kHz)"
                )
            rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    async with websockets.connect(f"{url}?sample_rate={rate}") as socket:
        started = json.loads(await socket.recv())
        print("session", started["session_id"], "mode", started["data"]["mode"])
        if wav is not None:
            step = rate * FRAME_MS // 1000 * 2
            for offset in range(0, len(pcm), step):  # in real time, as a microphone would
                await socket.send(pcm[offset : offset + step])
                await asyncio.sleep(FRAME_MS / 1000)
            await socket.send(bytes(step * 50))  # a second of silence ends the utterance
        else:
            await socket.send(json.dumps({"type": "text_message", "data": {"text": text}}))
        audio, audio_rate = bytearray(), 24000
        async for message in socket:
            if isinstance(message, bytes):
                audio += message
                continue
            event = json.loads(message)
            kind, data = event["type"], event["data"]
            if kind == "transcript" and data["is_final"]:
                print("you said:", data["text"])
            elif kind == "response_delta":
                print(data["text"], end="", flush=True)
            elif kind == "audio_start":
                audio_rate = data["sample_rate_hz"]
            elif kind == "error":
                print("\nerror:", data["code"], data["error"])
            elif kind == "response":
                print()
                break
        if audio:
            with wave.open(str(out), "wb") as writer:
                writer.setnchannels(1)
                writer.setsampwidth(2)
                writer.setframerate(audio_rate)
                writer.writeframes(bytes(audio))
            print(f"answer audio: {out} ({len(audio) / 2 / audio_rate:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", nargs="?", type=Path, help="a 16-bit mono WAV to say")
    parser.add_argument("--text", help="type this instead of speaking")
    parser.add_argument("--url", default="ws://127.0.0.1:8129/ws")
    parser.add_argument("--out", type=Path, default=Path("answer.wav"))
    args = parser.parse_args()
    if (args.wav is None) == (args.text is None):
        parser.error("give a WAV file or --text")
    asyncio.run(converse(args.url, args.wav, args.text, args.out))


if __name__ == "__main__":
    main()
