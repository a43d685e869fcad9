"""The security boundary: each run of generated code in its own confined, limited, killable process.

The kernel confines it (confine.py: namespaces, a private read-only root, its own user, rlimits, seccomp);
the answer comes back on a pipe of its own, sealed with a nonce made for the run, so nothing the code
prints or forges is taken for a result.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import os
import secrets
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

_PACKAGE = resources.files("voxhub.agent.autofunction")
# One program, standard library only: confine.py, then runner.py without its import of confine (and
# without its `from __future__` line, which may only stand first).
_RUNNER = _PACKAGE.joinpath("confine.py").read_text() + "".join(
    line
    for line in _PACKAGE.joinpath("runner.py").read_text().splitlines(keepends=True)
    if not line.startswith(("from voxhub.agent.autofunction.confine import", "from __future__ import"))
)
_LIBRARY = os.path.dirname(os.__file__)  # the standard library, readable (never writable) in the sandbox
# Loaded lazily by allowed modules (datetime.strptime); preloaded because after the privilege drop the
# library may be unreadable.
_LAZY_HELPERS = {"datetime": ("_strptime",), "time": ("_strptime",)}
# What the interpreter itself imports on demand for allowed code (a codec for str.encode, strptime).
_HELPER_MODULES = frozenset({"_strptime", "encodings"})
# Each sandbox runs as its own unprivileged user when the server is root, so RLIMIT_NPROC (which root
# ignores) counts only that sandbox's processes and sandboxes cannot signal one another.
_UID_BASE = 1_600_000
_UID_SPAN = 100_000
_uids = itertools.count()
_MAX_STDERR_BYTES = 64 * 1024
# What each kernel layer reports when it is in force (confine.py); anything else is logged as missing.
ACTIVE_LAYERS = {
    "namespaces": ("root", "user_namespace"),
    "network": ("namespace",),
    "filesystem": ("private_root",),
    "user": ("own_uid", "user_namespace"),
    "seccomp": ("filter",),
}
logger = logging.getLogger(__name__)


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
    layers: Mapping[str, str] = field(default_factory=dict)  # each confinement layer's state (confine.py)

    @property
    def network(self) -> str:
        """How the network was cut: "namespace", or "audit_hook" where the kernel refused one."""
        return "namespace" if self.layers.get("network") == "namespace" else "audit_hook"

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
            "layers": dict(self.layers),
        }


@dataclass
class _Run:
    """What a finished process left: its sealed answer, stderr tail, exit code, and whether we killed it."""

    nonce: str
    answer: bytes = b""
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
    """Runs generated code in a fresh, kernel-confined child process; see confine.py for the layers.

    Nothing blocks the event loop: the child is awaited, so many sandboxes run while the server serves.
    `audit_hook=False` leaves out the in-process audit hook, so tests can show the kernel alone holds.
    """

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        extra_modules: Iterable[str] = (),
        max_concurrent: int = 8,
        audit_hook: bool = True,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.audit_hook = audit_hook
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

    async def probe(self) -> Mapping[str, str]:
        """Run a trivial call and log which confinement layers this machine gives; returns their states."""
        result = await self.call("def probe():\n    return 1\n", "probe", {})
        if not result.ok or result.value != 1:
            logger.error("autofunction sandbox does not run: %s", result.error)
            return result.layers
        missing = {
            name: result.layers.get(name, "unavailable: not reported")
            for name, active in ACTIVE_LAYERS.items()
            if result.layers.get(name) not in active
        }
        for name, state in missing.items():
            logger.warning("autofunction sandbox: the %s layer is %s", name, state)
        logger.info(
            "autofunction sandbox layers: %s",
            ", ".join(f"{name}={state}" for name, state in result.layers.items()),
            extra={"layers": dict(result.layers)},
        )
        return result.layers

    async def _run(self, source: str, task: dict[str, Any], *, extra_source: str = "") -> SandboxResult:
        async with self._slots:
            workdir = tempfile.mkdtemp(prefix="voxhub-autofunction-")
            try:
                uid = self._prepare(workdir)
                request = self._request(source, task, extra_source, workdir, uid)
                run = await self._execute(request, workdir)
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
            "modules": sorted(self._modules | _HELPER_MODULES),
            "preload": preload,
            "module_paths": site,
            "audit_hook": self.audit_hook,
            "limits": {
                "cpu_secs": limits.cpu_secs,
                "memory_mb": limits.memory_mb,
                "processes": limits.max_processes,
                "open_files": limits.max_open_files,
                "file_bytes": limits.max_file_bytes,
            },
        }

    async def _execute(self, request: dict[str, Any], workdir: str) -> _Run:
        run = _Run(nonce=secrets.token_hex(16))
        read_end, write_end = os.pipe()  # the answer's own pipe: the child's stdout is only output
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",  # no PYTHON* variables, no user site, no working directory on the path
                "-S",  # no site-packages unless an admin allowed modules from there
                "-c",
                _RUNNER,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(write_end,),
                cwd=workdir,
                env={},
                start_new_session=True,  # its own process group, killed whole
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        answer = asyncio.StreamReader(limit=self.limits.max_answer_bytes)
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(answer), os.fdopen(read_end, "rb", buffering=0)
        )
        payload = json.dumps(request | {"result_fd": write_end, "nonce": run.nonce}).encode()
        try:
            await self._converse(process, payload, answer, run)
        finally:
            transport.close()
        return run

    async def _converse(
        self, process: asyncio.subprocess.Process, payload: bytes, answer: asyncio.StreamReader, run: _Run
    ) -> None:
        assert process.stdin is not None
        assert process.stderr is not None
        try:
            async with asyncio.timeout(self.limits.timeout_secs):
                process.stdin.write(payload)
                try:
                    await process.stdin.drain()
                    process.stdin.close()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # it died at start-up; its exit status says why
                (run.answer, too_much), (run.stderr, _) = await asyncio.gather(
                    _read_capped(answer, self.limits.max_answer_bytes),
                    _read_capped(process.stderr, _MAX_STDERR_BYTES),
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


def _unsealed(run: _Run) -> dict[str, Any] | None:
    """The answer if it is the one frame the harness wrote, sealed with this run's nonce; else None."""
    try:
        frame = json.loads(run.answer)
    except ValueError:
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("answer"), dict):
        return None
    if not hmac.compare_digest(str(frame.get("nonce", "")).encode(), run.nonce.encode()):
        return None
    answer: dict[str, Any] = frame["answer"]
    return answer


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
    answer = _unsealed(run) if run.returncode == 0 else None
    if answer is None:
        stderr = run.stderr.decode(errors="replace")
        if "MemoryError" in stderr:
            failure = SandboxFailure("MemoryError", "the call ran out of memory")
            return SandboxResult(False, duration, error=failure, killed="memory")
        message = (
            f"the sandbox ended without its sealed answer (exit status {run.returncode}; "
            f"answer {'forged or damaged' if run.answer else 'missing'}): {stderr[-500:]}"
        )
        return SandboxResult(False, duration, error=SandboxFailure("SandboxError", message.strip()))
    common: dict[str, Any] = {"output": str(answer.get("output", "")), "layers": answer.get("layers") or {}}
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
