"""The program inside the sandbox process: it confines itself, runs the generated code, answers in JSON.

Standard library only; the sandbox passes this file's text to `python -I -S -c`. One JSON request arrives
on stdin (`source`, `function`, `arguments` or `tests`, `limits`, `uid`), one JSON answer leaves on stdout.
The order matters: leave the network (needs root), drop to the sandbox's own user, lower the limits,
then arm an audit hook that refuses files outside the working directory, processes, sockets and native
code before any generated line runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import resource
import sys
from collections.abc import Callable
from typing import Any

_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_MAX_OUTPUT_CHARS = 10_000
_REFUSED_EVENTS = (
    "os.system",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "os.forkpty",
    "os.kill",
    "os.killpg",
    "subprocess.Popen",
    "pty.spawn",
    "ctypes.",
    "socket.",
    "resource.setrlimit",
    "resource.prlimit",
    "sys.addaudithook",
    "sys.settrace",
    "sys.setprofile",
    "os.putenv",
    "os.unsetenv",
    "signal.pthread_kill",
    "webbrowser.open",
)
_PATH_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.symlink",
        "os.link",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.utime",
        "os.listdir",
        "os.scandir",
        "os.chdir",
        "os.chflags",
        "os.setxattr",
        "os.removexattr",
        "os.listxattr",
        "os.getxattr",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.move",
        "glob.glob",
    }
)


def _leave_network() -> str:
    """Enter a fresh network namespace (loopback only, down); 'audit_hook' when the kernel refuses."""
    libc = ctypes.CDLL(None, use_errno=True)
    for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return "namespace"
    return "audit_hook"


def _drop_privileges(uid: int | None) -> None:
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def _limit(limits: dict[str, int]) -> None:
    cpu = limits["cpu_secs"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU at the soft limit, SIGKILL a second on
    memory = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _inside(path: object, roots: tuple[str, ...]) -> bool:
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return False
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root + os.sep) for root in roots)


def _audit_hook(
    workdir: str, library: str, modules: frozenset[str]
) -> Callable[[str, tuple[Any, ...]], None]:
    """Refuse what generated code must never do, even when it slipped past the static check."""
    workdir, library = os.path.realpath(workdir), os.path.realpath(library)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode = args[0], args[1] or "r"
            read_only = isinstance(mode, str) and not set(mode) & set("wax+")
            if not (_inside(path, (workdir,)) or (read_only and _inside(path, (library,)))):
                raise PermissionError(f"sandbox: opening {path!r} is not allowed")
        elif event == "import":
            if args[0].split(".")[0] not in modules:
                raise PermissionError(f"sandbox: importing {args[0]!r} is not allowed")
        elif event.startswith(_REFUSED_EVENTS):
            raise PermissionError(f"sandbox: {event} is not allowed")
        elif event in _PATH_EVENTS:
            paths = [arg for arg in args if isinstance(arg, str | bytes | os.PathLike)]
            if not all(_inside(path, (workdir,)) for path in paths):
                raise PermissionError(f"sandbox: {event} outside the working directory is not allowed")

    return hook


def _error(exc: BaseException) -> dict[str, Any]:
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename.startswith("<autofunction"):
            line = trace.tb_lineno
        trace = trace.tb_next
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "line": line}


def _run_tests(namespace: dict[str, Any], tests: str) -> dict[str, Any]:
    """Top-level asserts first, then every `test_*` function the tests define."""
    failures: list[dict[str, Any]] = []
    ran = 0
    try:
        exec(compile(tests, "<autofunction-tests>", "exec"), namespace)
        ran += 1
    except Exception as exc:
        failures.append({"test": "<top level>", **_error(exc)})
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            ran += 1
            try:
                value()
            except Exception as exc:
                failures.append({"test": name, **_error(exc)})
    return {"ran": ran, "failures": failures}


def main() -> None:
    request = json.loads(sys.stdin.read())
    answer_to = sys.stdout
    network = _leave_network()
    sys.path[:0] = request.get("module_paths", [])
    modules = frozenset(request["modules"])
    for name in request.get("preload", []):  # while the library is still readable (as root: /root is 0700)
        with contextlib.suppress(ImportError):  # the generated import then fails inside, with its own error
            __import__(name)
    _drop_privileges(request.get("uid"))
    _limit(request["limits"])
    os.chdir(request["workdir"])
    code = compile(request["source"], "<autofunction>", "exec")
    captured = io.StringIO()
    namespace: dict[str, Any] = {"__name__": "autofunction"}
    sys.addaudithook(_audit_hook(request["workdir"], request["library"], modules))
    sys.stdout = sys.stderr = captured
    answer: dict[str, Any] = {"network": network}
    try:
        exec(code, namespace)
        if request.get("tests") is not None:
            answer |= {"ok": True, "tests": _run_tests(namespace, request["tests"])}
        else:
            value = namespace[request["function"]](**request.get("arguments", {}))
            answer |= {"ok": True, "value": json.loads(json.dumps(value, default=repr))}
    except MemoryError:
        captured = io.StringIO()  # frees what the bomb held, so the answer can be written
        answer |= {"ok": False, "error": {"type": "MemoryError", "message": "out of memory"}}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from generated code too
        answer |= {"ok": False, "error": _error(exc)}
    answer["output"] = captured.getvalue()[:_MAX_OUTPUT_CHARS]
    answer_to.write(json.dumps(answer))
    answer_to.flush()


if __name__ == "__main__":
    main()
