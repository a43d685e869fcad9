"""The AutoFunction escape review: every attempt is refused by the static check, and, with the check off,
stopped by the kernel's sandbox with its tests NOT passed, so the tool can never be approved.

The review's tools reached `__import__` through `operator.attrgetter` with a dunder built at run time, made
a FIFO in /tmp, stat-ed /etc/shadow and forged "tests passed" on stdout. Each attempt here asserts its
own success, so a stopped attempt fails its test.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL, script_tool
from tests.agent.autofunction.escapes import ESCAPES, RUNAWAYS
from tests.doubles.openai_server import OpenAiDouble, running_double
from voxhub.agent.autofunction.sandbox import Sandbox, SandboxLimits
from voxhub.agent.autofunction.service import AutoFunctionConflict, AutoFunctionRejected, AutoFunctionService
from voxhub.agent.autofunction.static_check import check_source
from voxhub.config import Settings
from voxhub.engines.llm.openai import OpenAiLlm

REFUSED_BY_THE_CHECK = [name for name in ESCAPES if name not in RUNAWAYS]
# Past the check, this one reads only the tool's own globals: nothing of the harness (see its own test).
OWN_GLOBALS = "format string dumps globals"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(SandboxLimits(cpu_secs=1, memory_mb=256, timeout_secs=5.0))


@pytest.fixture
def double() -> OpenAiDouble:
    return running_double()


@pytest.fixture
async def llm(double: OpenAiDouble) -> AsyncIterator[OpenAiLlm]:
    """voxhub's `openai` engine against the test double, standing in for a code-writing cloud model."""
    engine = OpenAiLlm(base_url=double.base_url, api_key=None, model="coder", loopback=True)
    yield engine
    await engine.aclose()


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A world-writable directory right in the host's /tmp, like /tmp itself: only the sandbox guards it."""
    path = Path(tempfile.mkdtemp(prefix="voxhub-escape-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def calling_escape(target: Path) -> str:
    return f"def test_escape():\n    escape({str(target)!r})\n"


@pytest.mark.parametrize("attempt", REFUSED_BY_THE_CHECK)
def test_the_static_check_refuses_the_attempt(attempt: str) -> None:
    assert check_source(ESCAPES[attempt], function_name="escape") != []


@pytest.mark.slow
@pytest.mark.parametrize("audit_hook", [True, False], ids=["with the audit hook", "kernel alone"])
@pytest.mark.parametrize("attempt", [name for name in ESCAPES if name != OWN_GLOBALS])
async def test_with_the_check_off_the_sandbox_stops_the_attempt_and_its_tests_do_not_pass(
    attempt: str, audit_hook: bool, host_dir: Path
) -> None:
    sandbox = Sandbox(SandboxLimits(cpu_secs=1, memory_mb=256, timeout_secs=5.0), audit_hook=audit_hook)
    target = host_dir / "escaped"
    result = await sandbox.test(ESCAPES[attempt], calling_escape(target))
    assert not (result.tests is not None and result.tests.passed)
    assert list(host_dir.iterdir()) == []  # noqa: ASYNC240 (nothing was made there, not even a FIFO)
    seen = result.output + str(result.tests.to_dict() if result.tests else "") + str(result.error)
    assert "root:" not in seen  # neither /etc/passwd nor /etc/shadow was read
    if attempt in RUNAWAYS:
        assert result.killed == ("cpu" if attempt == "endless loop" else "memory")


async def test_with_the_check_off_a_format_string_reads_only_the_tools_own_globals(sandbox: Sandbox) -> None:
    result = await sandbox.call(ESCAPES[OWN_GLOBALS], "escape", {"path": ""})
    assert result.ok
    assert "'escape': <function escape" in result.value
    assert not {"nonce", "result_fd", "confine", "layers"} & set(result.value.replace("'", " ").split())


@pytest.mark.slow
@pytest.mark.parametrize("attempt", ["stdout forgery", "result pipe forgery"])
async def test_a_forged_answer_is_no_answer(attempt: str, sandbox: Sandbox, host_dir: Path) -> None:
    result = await sandbox.test(ESCAPES[attempt], calling_escape(host_dir / "escaped"))
    assert (result.ok, result.tests) == (False, None)
    assert result.error is not None
    assert result.error.type == "SandboxError"
    assert "sealed answer" in result.error.message


@pytest.mark.slow
async def test_the_sandbox_runs_as_nobody_the_host_knows(sandbox: Sandbox) -> None:
    source = (
        "import os\n\ndef where():\n"
        "    return [os.getuid(), os.getcwd(), sorted(os.listdir('/')), sorted(os.listdir('/tmp'))]\n"
    )
    result = await Sandbox(sandbox.limits, audit_hook=False).call(source, "where", {})
    uid, cwd, root, tmp = result.value
    assert (uid != 0, cwd, root, tmp) == (True, "/work", ["lib", "tmp", "work"], [])


SYSCALLS = """
import ctypes

def refused():
    libc = ctypes.CDLL(None, use_errno=True)
    calls = {
        "execve": (59, b"/lib/python/os.py", 0, 0),
        "ptrace": (101, 0, 0, 0),  # PTRACE_TRACEME
        "socket": (41, 2, 1, 0),  # AF_INET, SOCK_STREAM
        "mknodat": (259, -100, b"/work/fifo", 0o010644),  # AT_FDCWD, S_IFIFO: inside the work dir even
        "unshare": (272, 0x10000000, 0, 0),  # CLONE_NEWUSER
    }
    errors = {}
    for name, (number, *arguments) in calls.items():
        ctypes.set_errno(0)
        errors[name] = (libc.syscall(number, *arguments), ctypes.get_errno())
    return errors
"""


async def test_the_seccomp_filter_refuses_the_syscalls_of_an_escape(sandbox: Sandbox) -> None:
    result = await Sandbox(sandbox.limits, audit_hook=False).call(SYSCALLS, "refused", {})
    eperm = [-1, 1]
    assert result.value == {name: eperm for name in ("execve", "ptrace", "socket", "mknodat", "unshare")}


@pytest.mark.parametrize("attempt", REFUSED_BY_THE_CHECK)
async def test_a_generated_tool_trying_it_is_rejected_and_not_stored(
    attempt: str, settings: Settings, llm: OpenAiLlm, double: OpenAiDouble, sandbox: Sandbox
) -> None:
    service = AutoFunctionService(settings, lambda: llm, sandbox=sandbox)
    script_tool(double, {**CELSIUS_TOOL, "name": "escape", "source": ESCAPES[attempt], "parameters": {}})
    with pytest.raises(AutoFunctionRejected):
        await service.create("break out")
    assert await service.all() == []


@pytest.mark.slow
@pytest.mark.parametrize("attempt", RUNAWAYS)
async def test_a_runaway_tool_is_stored_but_cannot_be_approved(
    attempt: str, settings: Settings, llm: OpenAiLlm, double: OpenAiDouble, sandbox: Sandbox
) -> None:
    service = AutoFunctionService(settings, lambda: llm, sandbox=sandbox)
    tests = "def test_escape():\n    escape('')\n"
    script_tool(
        double,
        {**CELSIUS_TOOL, "name": "escape", "source": ESCAPES[attempt], "tests": tests, "parameters": {}},
    )
    created = await service.create("spin")
    assert not created.tests_passed
    with pytest.raises(AutoFunctionConflict):
        await service.approve(created.id)
