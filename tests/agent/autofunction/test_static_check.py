"""The allow-list: generated code that could escape is refused before it runs, with the offending line."""

from __future__ import annotations

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL
from tests.agent.autofunction.escapes import ESCAPES
from voxhub.agent.autofunction.static_check import check_source


def rules(source: str, **options: object) -> set[str]:
    return {violation.rule for violation in check_source(source, **options)}  # type: ignore[arg-type]


def test_a_plain_function_with_safe_imports_passes() -> None:
    source = (
        "import math\nfrom collections import Counter\n\ndef spread(values):\n    return math.fsum(values)\n"
    )
    assert check_source(source, function_name="spread") == []


RUNAWAYS = (
    "endless loop",
    "memory bomb",
)  # plain legal Python: the sandbox's CPU and memory limits stop them


@pytest.mark.parametrize("attempt", [name for name in ESCAPES if name not in RUNAWAYS])
def test_escape_attempts_that_the_allow_list_can_see_are_refused(attempt: str) -> None:
    assert check_source(ESCAPES[attempt], function_name="escape") != []


@pytest.mark.parametrize("attempt", RUNAWAYS)
def test_runaway_code_passes_the_allow_list_and_is_left_to_the_sandbox(attempt: str) -> None:
    assert check_source(ESCAPES[attempt], function_name="escape") == []


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("import os\ndef f():\n    return 1\n", "import"),
        ("import importlib\ndef f():\n    return 1\n", "import"),
        ("from . import x\ndef f():\n    return 1\n", "import"),
        ("def f():\n    return eval('1')\n", "builtin"),
        ("def f():\n    run = exec\n    return run\n", "builtin"),
        ("def f():\n    return __import__('os')\n", "builtin"),
        ("def f(o, name):\n    return getattr(o, name)\n", "attribute"),
        ("def f(o):\n    return getattr(o, '__globals__')\n", "dunder"),
        ("def f():\n    return ().__class__\n", "dunder"),
        ("def f(g):\n    return g.gi_frame.f_back\n", "dunder"),
        ("def f(x):\n    return '{0.__class__}'.format(x)\n", "dunder"),
        ("def f():\n    return 1\nf()\n", "top_level"),
        ("def f(:\n", "syntax"),
    ],
)
def test_each_rule_names_what_it_refused(source: str, rule: str) -> None:
    assert rule in rules(source)


def test_violations_carry_the_line_they_are_on() -> None:
    source = "import math\n\ndef f():\n    return open('x').read()\n"
    [violation] = check_source(source)
    assert (violation.line, violation.rule) == (4, "builtin")
    assert "open" in violation.message


def test_the_named_function_must_be_defined() -> None:
    assert rules("def other():\n    return 1\n", function_name="wanted") == {"function"}


def test_an_admin_can_allow_more_modules_but_never_the_dangerous_ones() -> None:
    assert rules("import yaml\ndef f():\n    return 1\n") == {"import"}
    assert check_source("import yaml\ndef f():\n    return 1\n", extra_modules=["yaml"]) == []
    assert rules("import os\ndef f():\n    return 1\n", extra_modules=["os"]) == {"import"}


def test_tests_may_have_top_level_asserts() -> None:
    assert check_source(CELSIUS_TOOL["tests"], definitions_only=False) == []
