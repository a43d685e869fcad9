"""The allow-list: generated code that could escape is refused before it runs, with the offending line."""

from __future__ import annotations

import pytest

from tests.agent.autofunction.conftest import CELSIUS_TOOL
from tests.agent.autofunction.escapes import ESCAPES, RUNAWAYS
from voxhub.agent.autofunction.static_check import check_source


def rules(source: str, **options: object) -> set[str]:
    return {violation.rule for violation in check_source(source, **options)}  # type: ignore[arg-type]


def test_a_plain_function_with_safe_imports_passes() -> None:
    source = (
        "import math\nfrom collections import Counter\n\ndef spread(values):\n    return math.fsum(values)\n"
    )
    assert check_source(source, function_name="spread") == []


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
        ("import operator\ndef f(x):\n    return operator.add(x, 1)\n", "import"),
        ("import string\ndef f(x):\n    return string.Formatter().format('{0}', x)\n", "string_access"),
        ("from functools import update_wrapper\ndef f():\n    return 1\n", "string_access"),
        ("import typing\ndef f(g):\n    return typing.get_type_hints(g)\n", "string_access"),
        ("import random\ndef f():\n    return random._os\n", "private"),
        ("from random import _inst\ndef f():\n    return 1\n", "private"),
        ("import dataclasses\ndef f():\n    return dataclasses.sys.modules\n", "import"),
        ("import random\ndef f():\n    return [random][0]\n", "module"),
        ("def f(t, x):\n    return t.format(x)\n", "format"),
        ("def f(x):\n    return ('{0.' + 'real}').format(x)\n", "format"),
        ("def f(x):\n    return '{0._secret}'.format(x)\n", "format"),
        ("def f(x: 'open(1)'):\n    return x\n", "annotation"),
        ("def f():\n    return 1\nf()\n", "top_level"),
        ("def f(:\n", "syntax"),
    ],
)
def test_each_rule_names_what_it_refused(source: str, rule: str) -> None:
    assert rule in rules(source)


@pytest.mark.parametrize(
    "source",
    [
        "import collections\ndef f(x):\n    return isinstance(x, collections.abc.Mapping)\n",
        "import json\ndef f(s):\n    try:\n        return json.loads(s)\n"
        "    except json.decoder.JSONDecodeError:\n        return None\n",
        "import functools\n@functools.lru_cache(maxsize=None)\ndef f(n: int) -> int:\n"
        "    return functools.reduce(lambda a, b: a + b, range(n), 0)\n",
        "def f(x):\n    return '{:.2f} {0.real}'.format(x) + f'{x:>8}'\n",
        "class V:\n    def __init__(self, x):\n        self._x = x\n\ndef f():\n    return V(1)._x\n",
    ],
    ids=["submodule", "exception class", "decorator and annotations", "literal format", "private self"],
)
def test_ordinary_tools_still_pass(source: str) -> None:
    assert check_source(source, function_name="f") == []


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
