"""The second line of defence: each run of generated code in its own confined, limited, killable process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from voxhub.agent.autofunction.static_check import allowed_modules, imported_modules

if TYPE_CHECKING:
    from voxhub.config import Settings

KilledBy = Literal["cpu", "memory", "timeout", "output"]

_RUNNER = resources.files("voxhub.agent.autofunction").joinpath("runner.py").read_text()
_LIBRARY = os.path.dirname(os.__file__)  # the standard library, readable (never writable) in the sandbox
# Loaded lazily by allowed modules (datetime.strptime); preloaded because after the privilege drop the
# library may be unreadable.
_LAZY_HELPERS = {"datetime": ("_strptime",), "time": ("_strptime",)}
# Each sandbox runs as its own unprivileged user when the server is root, so RLIMIT_NPROC (which root
# ignores) counts only that sandbox's processes and sandboxes cannot signal one another.
_UID_BASE = 1_600_000
_UID_SPAN = 100_000
_uids = itertools.count()


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    cpu_secs: int = 2
    memory_mb: int = 256
    timeout_secs: float = 5.0
    max_processes: int = 1
    max_open_files: int = 16
    max_file_bytes: int = 1024 * 1024
    max_answer_bytes: int = 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxLimits:
        return cls(
            cpu_secs=settings.autofunction_cpu_secs,
            memory_mb=settings.autofunction_memory_mb,
            timeout_secs=settings.autofunction_timeout_secs,
            max_processes=settings.autofunction_max_processes,
            max_open_files=settings.autofunction_max_open_files,
        )


@dataclass(frozen=True, slots=True)
class SandboxFailure:
    """What went wrong inside: the exception's type and message, and its line in the generated code."""

    type: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "line": self.line}


@dataclass(frozen=True, slots=True)
class TestReport:
    ran: int
    failures: tuple[dict[str, Any], ...] = ()

    @property
    def passed(self) -> bool:
        return self.ran > 0 and not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "ran": self.ran, "failures": list(self.failures)}


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """One run: its value (or test report), or why it failed; `killed` names the limit that ended it."""

    ok: bool
    duration_secs: float
    value: Any = None
    tests: TestReport | None = None
    error: SandboxFailure | None = None
    killed: KilledBy | None = None
    output: str = ""  # what the code printed
    network: str = ""  # how the network was cut: "namespace", or "audit_hook" where the kernel refused

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "duration_secs": round(self.duration_secs, 4),
            "value": self.value,
            "tests": self.tests.to_dict() if self.tests else None,
            "error": self.error.to_dict() if self.error else None,
            "killed": self.killed,
            "output": self.output,
            "network": self.network,
        }


@dataclass
class _Run:
    """What a finished process left: its answer bytes, stderr tail, exit code, and whether we killed it."""

    stdout: bytes = b""
    stderr: bytes = b""
    returncode: int | None = None
    killed: KilledBy | None = None
    started: float = field(default_factory=time.perf_counter)


async def _read_capped(stream: asyncio.StreamReader, limit_bytes: int) -> tuple[bytes, bool]:
    data = bytearray()
    while chunk := await stream.read(65536):
        data += chunk
        if len(data) > limit_bytes:
            return bytes(data[:limit_bytes]), True
    return bytes(data), False


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)


class Sandbox:
    """Runs generated code in a child process under rlimits, its own user, no network and an audit hook.

    Nothing blocks the event loop: the child is awaited, so many sandboxes run while the server serves.
    """

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        extra_modules: Iterable[str] = (),
        max_concurrent: int = 8,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.extra_modules = tuple(extra_modules)
        self._modules = allowed_modules(self.extra_modules)
        self._slots = asyncio.Semaphore(max_concurrent)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sandbox:
        return cls(SandboxLimits.from_settings(settings), extra_modules=settings.autofunction_allowed_modules)

    async def call(self, source: str, function: str, arguments: Mapping[str, Any]) -> SandboxResult:
        """Define `source`, then call `function(**arguments)`; the value comes back through JSON."""
        return await self._run(source, {"function": function, "arguments": dict(arguments)})

    async def test(self, source: str, tests: str) -> SandboxResult:
        """Define `source`, then run `tests` (top-level asserts, then each `test_*` function) beside it."""
        return await self._run(source, {"tests": tests}, extra_source=tests)

    async def _run(self, source: str, task: dict[str, Any], *, extra_source: str = "") -> SandboxResult:
        async with self._slots:
            workdir = tempfile.mkdtemp(prefix="voxhub-autofunction-")
            try:
                uid = self._prepare(workdir)
                request = self._request(source, task, extra_source, workdir, uid)
                run = await self._execute(json.dumps(request).encode(), workdir)
            finally:
                await asyncio.to_thread(shutil.rmtree, workdir, True)
        return _result(run)

    def _prepare(self, workdir: str) -> int | None:
        if os.geteuid() != 0:
            return None
        uid = _UID_BASE + next(_uids) % _UID_SPAN
        os.chown(workdir, uid, uid)
        return uid

    def _request(
        self, source: str, task: dict[str, Any], extra_source: str, workdir: str, uid: int | None
    ) -> dict[str, Any]:
        wanted = imported_modules(source) | imported_modules(extra_source)
        preload = sorted(name for name in wanted if name.split(".")[0] in self._modules)
        preload += [helper for name in preload for helper in _LAZY_HELPERS.get(name, ())]
        site = [path for path in sys.path if path.endswith("site-packages")] if self.extra_modules else []
        limits = self.limits
        return {
            "source": source,
            **task,
            "workdir": workdir,
            "library": _LIBRARY,
            "uid": uid,
            "modules": sorted(self._modules | {"_strptime"}),
            "preload": preload,
            "module_paths": site,
            "limits": {
                "cpu_secs": limits.cpu_secs,
                "memory_mb": limits.memory_mb,
                "processes": limits.max_processes,
                "open_files": limits.max_open_files,
                "file_bytes": limits.max_file_bytes,
            },
        }

    async def _execute(self, request: bytes, workdir: str) -> _Run:
        run = _Run()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",  # no PYTHON* variables, no user site, no working directory on the path
            "-S",  # no site-packages unless an admin allowed modules from there
            "-c",
            _RUNNER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=workdir,
            env={},
            start_new_session=True,  # its own process group, killed whole
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            async with asyncio.timeout(self.limits.timeout_secs):
                process.stdin.write(request)
                try:
                    await process.stdin.drain()
                    process.stdin.close()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # it died at start-up; its exit status says why
                (run.stdout, too_much), (run.stderr, _) = await asyncio.gather(
                    _read_capped(process.stdout, self.limits.max_answer_bytes),
                    _read_capped(process.stderr, 64 * 1024),
                )
                if too_much:
                    run.killed = "output"
                    _kill_group(process)
                run.returncode = await process.wait()
        except TimeoutError:
            run.killed = "timeout"
        finally:
            if process.returncode is None:
                _kill_group(process)
                await process.wait()
        run.returncode = process.returncode
        return run


def _result(run: _Run) -> SandboxResult:
    duration = time.perf_counter() - run.started
    if run.killed == "timeout":
        message = "the call ran past its wall-clock limit and was killed"
        return SandboxResult(False, duration, error=SandboxFailure("Timeout", message), killed="timeout")
    if run.killed == "output":
        message = "the call wrote more than its output limit and was killed"
        return SandboxResult(False, duration, error=SandboxFailure("OutputLimit", message), killed="output")
    if run.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        message = "the call used up its CPU time and was killed"
        return SandboxResult(False, duration, error=SandboxFailure("CpuLimit", message), killed="cpu")
    try:
        answer = json.loads(run.stdout)
    except ValueError:
        stderr = run.stderr.decode(errors="replace")
        if "MemoryError" in stderr:
            failure = SandboxFailure("MemoryError", "the call ran out of memory")
            return SandboxResult(False, duration, error=failure, killed="memory")
        message = f"the sandbox ended without an answer (exit status {run.returncode}): {stderr[-500:]}"
        return SandboxResult(False, duration, error=SandboxFailure("SandboxError", message.strip()))
    common = {"output": answer.get("output", ""), "network": answer.get("network", "")}
    if not answer.get("ok"):
        error = answer.get("error") or {}
        failure = SandboxFailure(
            str(error.get("type", "Error")), str(error.get("message", "")), error.get("line")
        )
        killed: KilledBy | None = "memory" if failure.type == "MemoryError" else None
        return SandboxResult(False, duration, error=failure, killed=killed, **common)
    if "tests" in answer:
        report = TestReport(int(answer["tests"]["ran"]), tuple(answer["tests"]["failures"]))
        return SandboxResult(True, duration, tests=report, **common)
    return SandboxResult(True, duration, value=answer.get("value"), **common)
