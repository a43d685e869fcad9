"""The program inside the sandbox process: it confines itself, runs the generated code, answers sealed.

Standard library only; the sandbox passes confine.py's text followed by this file's to `python -I -S -c`.
One JSON request arrives on stdin (`source`, `function`, `arguments` or `tests`, `limits`, `uid`,
`result_fd`, `nonce`). The answer leaves on a pipe of its own (`result_fd`), sealed with the run's nonce,
and the process ends at once: what generated code writes on stdout or stderr is never taken for an answer.
The order matters: preload the modules the code imports, confine (namespaces, private root, own user,
rlimits, seccomp: see confine.py), then arm an audit hook as a last, in-process layer.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from voxhub.agent.autofunction.confine import confine  # inlined: the sandbox prepends confine.py

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
        "os.chflags",
        "os.setxattr",
        "os.removexattr",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.move",
    }
)
# These only look: allowed in the library too (the import system lists its directories).
_LOOKING_EVENTS = frozenset(
    {"os.listdir", "os.scandir", "os.chdir", "os.listxattr", "os.getxattr", "glob.glob"}
)


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
    writable: tuple[str, ...], readable: tuple[str, ...], modules: frozenset[str]
) -> Callable[[str, tuple[Any, ...]], None]:
    """Refuse what generated code must never do: the last layer, inside the process, behind the kernel's."""
    writable = tuple(os.path.realpath(path) for path in writable)
    readable = tuple(os.path.realpath(path) for path in readable)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode = args[0], args[1] or "r"
            read_only = isinstance(mode, str) and not set(mode) & set("wax+")
            if not (_inside(path, writable) or (read_only and _inside(path, readable))):
                raise PermissionError(f"sandbox: opening {path!r} is not allowed")
        elif event == "import":
            if args[0].split(".")[0] not in modules:
                raise PermissionError(f"sandbox: importing {args[0]!r} is not allowed")
        elif event.startswith(_REFUSED_EVENTS):
            raise PermissionError(f"sandbox: {event} is not allowed")
        elif event in _PATH_EVENTS or event in _LOOKING_EVENTS:
            roots = writable if event in _PATH_EVENTS else writable + readable
            paths = [arg for arg in args if isinstance(arg, str | bytes | os.PathLike)]
            if not all(_inside(path, roots) for path in paths):
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
    except MemoryError:
        raise  # the run is out of memory, not the test wrong
    except Exception as exc:
        failures.append({"test": "<top level>", **_error(exc)})
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            ran += 1
            try:
                value()
            except MemoryError:
                raise
            except Exception as exc:
                failures.append({"test": name, **_error(exc)})
    return {"ran": ran, "failures": failures}


def _moved_path(path: str, moved: dict[str, str]) -> str:
    for host, inside in moved.items():
        if path == host or path.startswith(host + os.sep):
            return inside + path[len(host) :]
    return path


def _send(descriptor: int, nonce: str, answer: dict[str, Any]) -> None:
    data = memoryview(json.dumps({"nonce": nonce, "answer": answer}).encode())
    while data:
        data = data[os.write(descriptor, data) :]


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    result_fd: int = request.pop("result_fd")
    nonce: str = request.pop("nonce")
    sys.path[:0] = request.get("module_paths", [])
    modules = frozenset(request["modules"])
    for name in request.get("preload", []):  # from the host's library, before the private root hides it
        with contextlib.suppress(ImportError):  # the generated import then fails inside, with its own error
            __import__(name)
    workdir, moved, layers = confine(request)
    sys.path[:] = [_moved_path(path, moved) for path in sys.path]
    for module in list(sys.modules.values()):  # packages loaded before (encodings) find their parts anew
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [_moved_path(path, moved) for path in search]
    sys.path_importer_cache.clear()
    writable = (workdir, "/tmp") if workdir == "/work" else (workdir,)
    code = compile(request["source"], "<autofunction>", "exec")
    captured = io.StringIO()
    namespace: dict[str, Any] = {"__name__": "autofunction"}
    if request.get("audit_hook", True):
        sys.addaudithook(_audit_hook(writable, tuple(moved.values()), modules))
    sys.stdout = sys.stderr = captured
    answer: dict[str, Any] = {"layers": layers}
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
    _send(result_fd, nonce, answer)
    os._exit(0)  # no finalizer or atexit hook of the generated code runs after the answer


if __name__ == "__main__":
    main()
