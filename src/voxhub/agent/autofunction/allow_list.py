"""What the static check allows and refuses, by name: modules, built-ins, attributes."""

from __future__ import annotations

# Pure computation: nothing here reaches files, processes, the network or the interpreter's internals.
SAFE_MODULES = frozenset(
    {
        "math",
        "cmath",
        "statistics",
        "datetime",
        "calendar",
        "json",
        "re",
        "random",
        "string",
        "textwrap",
        "itertools",
        "functools",
        "collections",
        "heapq",
        "bisect",
        "decimal",
        "fractions",
        "typing",
        "dataclasses",
        "enum",
        "unicodedata",
    }
)

# Named so the violation says why, and so an admin's allow-list can never re-open them.
DANGEROUS_MODULES = {
    "os": "reaches the operating system",
    "sys": "reaches the interpreter",
    "subprocess": "starts processes",
    "socket": "opens network connections",
    "ssl": "opens network connections",
    "http": "opens network connections",
    "urllib": "opens network connections",
    "ctypes": "calls native code",
    "cffi": "calls native code",
    "importlib": "imports arbitrary modules",
    "builtins": "replaces the built-ins",
    "shutil": "changes files",
    "pathlib": "reaches files",
    "io": "reaches files",
    "tempfile": "reaches files",
    "glob": "reaches files",
    "pickle": "runs arbitrary code when loading",
    "marshal": "loads code objects",
    "multiprocessing": "starts processes",
    "threading": "starts threads",
    "signal": "sends signals",
    "resource": "changes the sandbox's limits",
    "gc": "reaches every object in the interpreter",
    "inspect": "reaches frames and globals",
    "code": "runs arbitrary code",
    "pty": "starts processes",
    "posix": "reaches the operating system",
    "mmap": "maps memory and files",
    "operator": "reaches any attribute by a string (attrgetter, methodcaller)",
}

# Names in allowed modules that reach attributes by a run-time string, or evaluate strings as code.
STRING_ACCESS = {
    "attrgetter": "reaches any attribute by a string",
    "methodcaller": "calls any method by a string",
    "Formatter": "reaches any attribute by a string (get_field, vformat)",
    "get_field": "reaches any attribute by a string",
    "vformat": "reaches any attribute by a string",
    "update_wrapper": "copies attributes named by strings",
    "wraps": "copies attributes named by strings",
    "make_dataclass": "makes attributes named by strings",
    "ForwardRef": "evaluates a string as code",
    "get_type_hints": "evaluates string annotations as code",
}

FORBIDDEN_BUILTINS = frozenset(
    {
        "__import__",
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "memoryview",
    }
)
ATTRIBUTE_BUILTINS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
# Frame and code attributes that lead from any function or generator to the globals of the runner.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
        "co_code",
        "mro",
        "format_map",
    }
)
FORMAT_METHODS = frozenset({"format", "format_map"})
