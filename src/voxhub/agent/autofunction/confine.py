"""How the sandbox process confines itself, by the kernel, before any generated line runs.

Standard library only: the sandbox prepends this file's text to runner.py's and runs both with
`python -I -S -c`. The layers, in order: new mount, network, IPC and UTS namespaces (as root directly, else
inside a user namespace); a private root (an empty tmpfs, read-only, holding only the standard library
read-only and a small writable work dir, which is also /tmp); an unprivileged user (its own uid as root,
no capabilities in a user namespace); rlimits; no new privileges and a seccomp filter. Each layer reports
what it achieved; one the kernel refuses is reported as unavailable, never assumed.
"""

from __future__ import annotations

import ctypes
import os
import resource
import struct
from typing import Any

_CLONE_NEWNS = 0x00020000
_CLONE_NEWCGROUP = 0x02000000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_NAMESPACES = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_LOCKED = _MS_NOSUID | _MS_NODEV
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_CAPABILITY_VERSION_3 = 0x20080522
_WORK_MB = 8  # the private work dir (and /tmp): total bytes and inodes are capped, not only each file

# x86_64 only: numbers of another architecture would be guessed, so there the layer reports unavailable.
_AUDIT_ARCH_X86_64 = 0xC000003E
_SYS_CLONE, _SYS_CLONE3, _X32_BIT = 56, 435, 0x40000000
_DENIED_SYSCALLS = {
    "socket": 41,
    "connect": 42,
    "accept": 43,
    "bind": 49,
    "listen": 50,
    "socketpair": 53,
    "accept4": 288,
    "execve": 59,
    "execveat": 322,
    "ptrace": 101,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kill": 62,
    "tkill": 200,
    "tgkill": 234,
    "rt_sigqueueinfo": 129,
    "rt_tgsigqueueinfo": 297,
    "pidfd_open": 434,
    "pidfd_send_signal": 424,
    "pidfd_getfd": 438,
    "mknod": 133,
    "mknodat": 259,
    "mount": 165,
    "umount2": 166,
    "pivot_root": 155,
    "chroot": 161,
    "unshare": 272,
    "setns": 308,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "mount_setattr": 442,
    "setrlimit": 160,
    "prlimit64": 302,
    "personality": 135,
    "open_by_handle_at": 304,
    "name_to_handle_at": 303,
    "bpf": 321,
    "perf_event_open": 298,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "keyctl": 250,
    "add_key": 248,
    "request_key": 249,
    "kexec_load": 246,
    "kexec_file_load": 320,
    "init_module": 175,
    "finit_module": 313,
    "delete_module": 176,
}
_EPERM, _ENOSYS = 1, 38


def _bytes(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


class _Libc:
    def __init__(self) -> None:
        self.lib = ctypes.CDLL(None, use_errno=True)

    def check(self, result: int, what: str) -> None:
        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    def mount(
        self, source: str | None, target: str | None, kind: str | None, flags: int, data: str = ""
    ) -> None:
        flag_bits = ctypes.c_ulong(flags)
        result = self.lib.mount(_bytes(source), _bytes(target), _bytes(kind), flag_bits, _bytes(data))
        self.check(result, f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _enter_namespaces(libc: _Libc) -> str:
    """'root' (namespaces of our own as root), 'user_namespace' (as the server's user), or raise."""
    if os.geteuid() == 0 and libc.lib.unshare(_NAMESPACES) == 0:
        return "root"
    uid, gid = os.geteuid(), os.getegid()
    libc.check(libc.lib.unshare(_CLONE_NEWUSER | _NAMESPACES), "unshare")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")
    return "user_namespace"


def _bind_read_only(libc: _Libc, source: str, target: str) -> None:
    os.makedirs(target, exist_ok=True)
    libc.mount(source, target, None, _MS_BIND | _MS_REC)
    libc.mount(None, target, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _LOCKED)


def _private_root(
    libc: _Libc, staging: str, library: str, module_paths: list[str], owner: tuple[int, int]
) -> dict[str, str]:
    """Chroot into a read-only tmpfs with the library at /lib/python and a writable /work (= /tmp).

    Returns where each host path of the library and module paths is seen inside.
    """
    libc.mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing we mount leaks back to the host
    libc.mount("voxhub-sandbox", staging, "tmpfs", _LOCKED | _MS_NOEXEC, "size=256k,nr_inodes=256,mode=755")
    moved = {library: "/lib/python"}
    moved |= {path: f"/lib/site{index}" for index, path in enumerate(module_paths) if os.path.isdir(path)}
    for source, inside in moved.items():
        _bind_read_only(libc, source, staging + inside)
    work = staging + "/work"
    os.mkdir(work)
    uid, gid = owner
    options = f"size={_WORK_MB}m,nr_inodes=1024,mode=700,uid={uid},gid={gid}"
    libc.mount("voxhub-work", work, "tmpfs", _LOCKED | _MS_NOEXEC, options)
    os.mkdir(staging + "/tmp")
    libc.mount(work, staging + "/tmp", None, _MS_BIND)
    libc.mount(None, staging, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _LOCKED | _MS_NOEXEC)
    os.chroot(staging)
    os.chdir("/work")
    return moved


def _drop_capabilities(libc: _Libc) -> None:
    header = struct.pack("Ii", _CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two empty {effective, permitted, inheritable} sets
    libc.check(libc.lib.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)), "capset")


def _drop_privileges(libc: _Libc, uid: int | None, mode: str) -> str:
    if mode == "user_namespace":
        _drop_capabilities(libc)
        return "user_namespace"
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        return "own_uid"
    return "unavailable: the server is not root, so the sandbox runs as the server's user"


def _limit(limits: dict[str, int]) -> None:
    cpu = limits["cpu_secs"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU at the soft limit, SIGKILL a second on
    memory = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _seccomp_program() -> bytes:
    """Deny the syscalls above with EPERM, clone3 with ENOSYS (glibc falls back to clone), and clone with a
    namespace flag; kill the process on a foreign architecture or the x32 ABI."""

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    load, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    errno = 0x00050000
    namespaces = _NAMESPACES | _CLONE_NEWUSER | _CLONE_NEWPID | _CLONE_NEWCGROUP
    program = [op(load, 4), op(jeq, _AUDIT_ARCH_X86_64, 1, 0), op(ret, kill), op(load, 0)]
    program += [op(jge, _X32_BIT, 0, 1), op(ret, kill)]
    for number in sorted(_DENIED_SYSCALLS.values()):
        program += [op(jeq, number, 0, 1), op(ret, errno | _EPERM)]
    program += [op(jeq, _SYS_CLONE3, 0, 1), op(ret, errno | _ENOSYS)]
    program += [op(jeq, _SYS_CLONE, 0, 3), op(load, 16), op(jset, namespaces, 0, 1), op(ret, errno | _EPERM)]
    program += [op(ret, allow)]
    return b"".join(program)


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _seccomp(libc: _Libc) -> str:
    libc.check(libc.lib.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    machine = os.uname().machine
    if machine != "x86_64":
        return f"unavailable: no syscall table for {machine} (no_new_privs only)"
    code = _seccomp_program()
    program = _Program(len(code) // 8, code)
    libc.check(libc.lib.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0), "seccomp")
    return "filter"


def _unavailable(exc: BaseException) -> str:
    return f"unavailable: {exc}"


def confine(request: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, str]]:
    """Confine this process for the run.

    Returns the work dir, where each host library path is seen now (itself without a private root), and
    each layer's state.
    """
    libc = _Libc()
    workdir, library = request["workdir"], request["library"]
    module_paths = list(request.get("module_paths", []))
    moved = {path: path for path in [library, *module_paths]}
    layers: dict[str, str] = {}
    try:
        mode = _enter_namespaces(libc)
        layers["namespaces"] = mode
        layers["network"] = "namespace"
    except OSError as exc:
        mode = "none"
        layers["namespaces"] = layers["network"] = _unavailable(exc)
    layers["filesystem"] = "unavailable: no mount namespace"
    if mode != "none":
        owner = (0, 0) if mode == "user_namespace" or request.get("uid") is None else (request["uid"],) * 2
        try:
            moved = _private_root(libc, workdir, library, module_paths, owner)
            workdir = "/work"
            layers["filesystem"] = "private_root"
        except OSError as exc:
            layers["filesystem"] = _unavailable(exc)
    layers["user"] = _drop_privileges(libc, request.get("uid"), mode)
    _limit(request["limits"])
    try:
        layers["seccomp"] = _seccomp(libc)
    except OSError as exc:
        layers["seccomp"] = _unavailable(exc)
    if layers["filesystem"] != "private_root":
        os.chdir(workdir)
    return workdir, moved, layers
