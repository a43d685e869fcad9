"""The server's peak memory while it is sent decompression bombs: an hour of silence as FLAC, Ogg/Opus, MP3.

    PYTHONPATH=src .venv/bin/python benchmarks/bombs.py [--secs 3600] [--timeout 600] [--streamed]
                                                        [--config voxhub.yaml]

For each bomb (made with the ffmpeg command line; a few hundred KB to a few MB) a fresh server child is
started (all engines loaded, as `voxhub serve` does, Wyoming off), its resident memory is read, the file is
posted to `/v1/audio/transcriptions`, and the child's peak resident memory (VmHWM, from /proc) is read when
the answer comes (or at `--timeout`). A fresh server per bomb keeps one bomb's work out of the next figure.
The script measures whichever `voxhub` is on PYTHONPATH, so it measures an older checkout just as well.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from harness import ServerProcess, table

# (name, file name, ffmpeg codec and container options), at 16 kHz mono
BOMBS = (
    ("FLAC", "hour.flac", ("-c:a", "flac", "-f", "flac")),
    ("Ogg/Opus", "hour.opus", ("-c:a", "libopus", "-b:a", "6k", "-compression_level", "0", "-f", "ogg")),
    ("MP3", "hour.mp3", ("-c:a", "libmp3lame", "-b:a", "8k", "-f", "mp3")),
)
MIB = 1024 * 1024


def make_bomb(secs: float, codec: tuple[str, ...], path: Path, *, streamed: bool) -> bytes:
    """`secs` of silence in `path`; `streamed` writes it through a pipe, so its header cannot state its length."""
    program = shutil.which("ffmpeg")
    assert program, "ffmpeg is not installed"
    command = [program, "-v", "error", "-nostdin", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"]
    command += ["-t", str(secs), *codec]
    if streamed:
        path.write_bytes(subprocess.run([*command, "-"], check=True, capture_output=True).stdout)
    else:
        subprocess.run([*command, "-y", str(path)], check=True)
    return path.read_bytes()


def reset_peak_rss(pid: int) -> None:
    """Set the process's peak-RSS mark back to its current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc status")


async def measure(data_dir: Path, config: Path | None, name: str, data: bytes, wait_secs: float) -> list[str]:
    async with ServerProcess(data_dir, config, {"wyoming_enabled": False}) as server:
        before = await server.rss_bytes()
        pid = server.process.pid
        assert pid is not None
        reset_peak_rss(pid)
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=server.url, timeout=wait_secs) as http:
            try:
                response = await http.post(
                    "/v1/audio/transcriptions", files={"file": ("upload", data)}, data={"model": "whisper-1"}
                )
                answer = f"{response.status_code} {response.json().get('error', '')}".strip()
            except httpx.TimeoutException:
                answer = f"no answer in {wait_secs:.0f} s"
        elapsed = time.monotonic() - started
        peak = peak_rss_bytes(pid)
    return [
        name,
        f"{len(data) / 1024:.0f} KB",
        answer,
        f"{elapsed:.1f} s",
        f"{before / MIB:.0f} MiB",
        f"{peak / MIB:.0f} MiB",
        f"{(peak - before) / MIB:+.0f} MiB",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--secs", type=float, default=3600.0, help="Length of each bomb's silence.")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="Longest wait for an answer, in seconds."
    )
    parser.add_argument(
        "--streamed", action="store_true", help="Bombs written through a pipe: no length stated."
    )
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, filename, codec in BOMBS:
            data = make_bomb(args.secs, codec, Path(tmp) / filename, streamed=args.streamed)
            rows.append(await measure(Path(tmp) / name, args.config, name, data, args.timeout))
            print(" | ".join(rows[-1]), flush=True)
    print()
    print(table("bomb|file|answer|time|RSS before|peak RSS|peak - before", rows))


if __name__ == "__main__":
    asyncio.run(main())
