"""The first filter, not the boundary: an AST allow-list every generated tool must pass before it runs.

It refuses what it can see (imports, dunders, attribute access by a run-time string, private or foreign
module attributes); what it cannot see, the sandbox (sandbox.py, confine.py) stops in the kernel.
"""

from __future__ import annotations

import ast
import importlib
import re
import string
import types
from collections.abc import Iterable
from dataclasses import dataclass

from voxhub.agent.autofunction.allow_list import (
    ATTRIBUTE_BUILTINS,
    DANGEROUS_MODULES,
    FORBIDDEN_ATTRIBUTES,
    FORBIDDEN_BUILTINS,
    FORMAT_METHODS,
    SAFE_MODULES,
    STRING_ACCESS,
)

_DUNDER = re.compile(r"__\w+__")
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing the allow-list refuses, with where it is (1-based line, 0-based column)."""

    line: int
    column: int
    rule: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "rule": self.rule, "message": self.message}


def allowed_modules(extra: Iterable[str] = ()) -> frozenset[str]:
    """The safe modules plus what an admin allows, minus the dangerous ones (which stay closed)."""
    return (SAFE_MODULES | {name.strip() for name in extra if name.strip()}) - DANGEROUS_MODULES.keys()


def imported_modules(source: str) -> set[str]:
    """The full names of modules `source` imports (empty when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _module(name: str) -> types.ModuleType | None:
    """The module itself, imported here in the server (only allowed ones are asked), to see its attributes."""
    try:
        return importlib.import_module(name)
    except Exception:  # not installed, or broken: the sandbox's own import then fails
        return None


def _private_fields(template: str, depth: int = 0) -> list[str]:
    """Fields of a literal format string that reach a private attribute or item: `{0._x}`, `{0[_x]}`."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return []  # not a valid format string: formatting it fails at run time
    found = []
    for _, field, spec, _ in parsed:
        parts = re.split(r"[.\[\]]", field or "")
        found += [part for part in parts[1:] if part.startswith("_")]
        if spec and depth < 2:
            found += _private_fields(spec, depth + 1)
    return found


def _string_annotations(node: ast.AST | None) -> bool:
    return node is not None and any(
        isinstance(part, ast.Constant) and isinstance(part.value, str) for part in ast.walk(node)
    )


class _Checker(ast.NodeVisitor):
    def __init__(self, allowed: frozenset[str], modules: dict[str, types.ModuleType | None]) -> None:
        self.allowed = allowed
        self.modules = modules  # names the source binds to modules (None: could not be imported here)
        self.violations: list[Violation] = []
        self._attribute_calls: set[int] = set()  # ids of getattr-like names checked as a call
        self._module_bases: set[int] = set()  # ids of module names used as `module.attribute`

    def _allowed_module(self, module: types.ModuleType) -> bool:
        top = module.__name__.split(".")[0]
        return top in self.allowed and top not in DANGEROUS_MODULES

    def _resolve(self, node: ast.expr) -> types.ModuleType | None:
        """The module `node` names (`random`, `collections.abc`), or None when it is not one."""
        if isinstance(node, ast.Name):
            return self.modules.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self._resolve(node.value)
            value = getattr(owner, node.attr, None) if owner is not None else None
            return value if isinstance(value, types.ModuleType) else None
        return None

    def _check_module_attribute(
        self, node: ast.AST, owner: types.ModuleType | None, name: str, where: str
    ) -> None:
        if name.startswith("_"):
            self.flag(node, "private", f"the private name `{where}.{name}` is not allowed")
            return
        value = getattr(owner, name, None) if owner is not None else None
        if isinstance(value, types.ModuleType) and not self._allowed_module(value):
            self.flag(
                node, "import", f"`{where}.{name}` is the module `{value.__name__}`, which is not allowed"
            )

    def flag(self, node: ast.AST, rule: str, message: str) -> None:
        line, column = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        self.violations.append(Violation(line, column, rule, message))

    def _check_module(self, node: ast.AST, name: str) -> None:
        top = name.split(".")[0]
        if top in DANGEROUS_MODULES:
            self.flag(node, "import", f"import of `{name}` is not allowed: it {DANGEROUS_MODULES[top]}")
        elif top not in self.allowed:
            self.flag(node, "import", f"import of `{name}` is not allowed (not on the allow-list)")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            self.flag(node, "import", "relative imports are not allowed")
            return
        self._check_module(node, node.module)
        owner = _module(node.module) if node.module.split(".")[0] in self.allowed else None
        for alias in node.names:
            if alias.name == "*" or _is_dunder(alias.name):
                self.flag(node, "import", f"`from {node.module} import {alias.name}` is not allowed")
            elif alias.name in STRING_ACCESS:
                self.flag(node, "string_access", f"`{alias.name}` {STRING_ACCESS[alias.name]}")
            else:
                self._check_module_attribute(node, owner, alias.name, node.module)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ATTRIBUTE_BUILTINS:
            self._attribute_calls.add(id(func))
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.flag(node, "attribute", f"`{func.id}` needs a literal attribute name")
            elif _is_dunder(name.value) or name.value in FORBIDDEN_ATTRIBUTES:
                self.flag(node, "dunder", f"`{func.id}` of `{name.value}` is not allowed")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.modules and id(node) not in self._module_bases:
            self.flag(node, "module", f"the module `{node.id}` may only be used as `{node.id}.attribute`")
        elif node.id in FORBIDDEN_BUILTINS:
            self.flag(node, "builtin", f"`{node.id}` is not allowed")
        elif node.id in ATTRIBUTE_BUILTINS and id(node) not in self._attribute_calls:
            self.flag(node, "attribute", f"`{node.id}` may only be called directly")
        elif _is_dunder(node.id):
            self.flag(node, "dunder", f"the name `{node.id}` is not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _is_dunder(node.attr) or node.attr in FORBIDDEN_ATTRIBUTES:
            self.flag(node, "dunder", f"the attribute `{node.attr}` is not allowed")
        elif node.attr in STRING_ACCESS:
            self.flag(node, "string_access", f"`{node.attr}` {STRING_ACCESS[node.attr]}")
        elif node.attr in FORMAT_METHODS:
            self._check_format(node)
        owner = self._resolve(node.value)
        if isinstance(node.value, ast.Name) and node.value.id in self.modules:
            self._module_bases.add(id(node.value))
        if owner is not None or (isinstance(node.value, ast.Name) and node.value.id in self.modules):
            self._check_module_attribute(node, owner, node.attr, ast.unparse(node.value))
        self.generic_visit(node)

    def _check_format(self, node: ast.Attribute) -> None:
        template = node.value
        if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
            self.flag(node, "format", f"`.{node.attr}` is allowed only on a literal string")
        elif private := _private_fields(template.value):
            self.flag(node, "format", f"the format string reaches the private name `{private[0]}`")

    def visit_arg(self, node: ast.arg) -> None:
        if _string_annotations(node.annotation):
            self.flag(node, "annotation", "string annotations are not allowed: typing evaluates them as code")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if _string_annotations(node.returns):
            self.flag(node, "annotation", "string annotations are not allowed: typing evaluates them as code")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if _string_annotations(node.annotation):
            self.flag(node, "annotation", "string annotations are not allowed: typing evaluates them as code")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # "{0.__class__}".format(x) reaches dunders without an attribute in the tree.
        if isinstance(node.value, str) and _DUNDER.search(node.value):
            self.flag(node, "dunder", "strings naming dunder attributes are not allowed")

    def visit_Global(self, node: ast.Global) -> None:
        self.flag(node, "global", "`global` is not allowed; a tool keeps no state between calls")


def _module_names(tree: ast.AST, allowed: frozenset[str]) -> dict[str, types.ModuleType | None]:
    """Each name an import binds to a module: `import a.b` binds `a`, `import a.b as c` and
    `from a import b` (when `b` is a module) bind `c` and `b`."""
    names: dict[str, types.ModuleType | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                known = top in allowed
                if alias.asname:
                    names[alias.asname] = _module(alias.name) if known else None
                else:
                    names[top] = _module(top) if known else None
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in allowed:
            owner = _module(node.module)
            for alias in node.names:
                value = getattr(owner, alias.name, None)
                if isinstance(value, types.ModuleType):
                    names[alias.asname or alias.name] = value
    return names


def check_source(
    source: str,
    *,
    function_name: str | None = None,
    extra_modules: Iterable[str] = (),
    definitions_only: bool = True,
) -> list[Violation]:
    """Every violation in `source`, in line order; empty means it passes.

    `function_name`: the plain `def` that must be defined at the top level. `definitions_only`: the top level
    may hold only imports, definitions and assignments (tools); tests may hold statements too.
    """
    try:
        tree = ast.parse(source, filename="<autofunction>")
    except SyntaxError as exc:
        return [Violation(exc.lineno or 0, (exc.offset or 1) - 1, "syntax", f"syntax error: {exc.msg}")]
    allowed = allowed_modules(extra_modules)
    checker = _Checker(allowed, _module_names(tree, allowed))
    checker.visit(tree)
    violations = checker.violations
    if definitions_only:
        for statement in tree.body:
            docstring = isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            if not isinstance(statement, _DEFINITIONS) and not docstring:
                violations.append(
                    Violation(
                        statement.lineno,
                        statement.col_offset,
                        "top_level",
                        "only imports, definitions and assignments may stand at the top level",
                    )
                )
    if function_name is not None and not any(
        isinstance(statement, ast.FunctionDef) and statement.name == function_name for statement in tree.body
    ):
        violations.append(
            Violation(1, 0, "function", f"no top-level `def {function_name}(...)` in the source")
        )
    return sorted(violations, key=lambda violation: (violation.line, violation.column))


def function_parameters(source: str, function_name: str) -> list[str] | None:
    """The parameter names of the top-level function (None when it is missing or the source is broken)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == function_name:
            arguments = statement.args
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            return [argument.arg for argument in every]
    return None
