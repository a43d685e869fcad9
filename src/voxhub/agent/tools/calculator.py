"""Safe arithmetic for the `calculator` tool: numbers, operators and a few math functions, nothing else."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

MAX_EXPRESSION_CHARS = 300
MAX_ROUND_DIGITS = 15
MAX_RESULT_BITS = 4096  # ~1233 digits: plenty for a voice answer, and fast to compute and print

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "min": min,
    "max": max,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
# What people (and LLMs) write for multiply, divide and power.
_SPELLINGS = {"×": "*", "÷": "/", "^": "**", "−": "-"}


class CalculationError(ValueError):
    """The expression is not allowed, or has no answer (division by zero, too large...)."""


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression; anything but numbers, operators and known functions is refused."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculationError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    for written, meant in _SPELLINGS.items():
        expression = expression.replace(written, meant)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise CalculationError(f"not an arithmetic expression: {expression!r}") from None
    try:
        return _value(tree.body)
    except ZeroDivisionError:
        raise CalculationError("division by zero") from None
    except OverflowError:
        raise CalculationError("the result is too large") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, CalculationError):
            raise
        raise CalculationError(f"math error: {exc}") from None


def format_number(value: Number) -> str:
    """Integers whole, floats to 12 significant digits (so 0.1 + 0.2 reads 0.3)."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".12g")
    return str(value)


def _value(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalculationError(f"only numbers are allowed, not {node.value!r}")
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculationError(f"unknown name {node.id!r}: only numbers, operators and math functions")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_value(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call):
        return _call(node)
    raise CalculationError(f"{type(node).__name__} is not allowed in a calculation")


def _call(node: ast.Call) -> Number:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
        shown = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
        raise CalculationError(f"unknown function {shown!r}; known: {', '.join(sorted(_FUNCTIONS))}")
    if node.keywords:
        raise CalculationError("functions take positional arguments only")
    arguments = [_value(argument) for argument in node.args]
    if node.func.id == "round" and len(arguments) == 2:
        arguments[1] = int(arguments[1])
        if abs(arguments[1]) > MAX_ROUND_DIGITS:
            raise CalculationError(f"round to at most {MAX_ROUND_DIGITS} digits")
    return _checked(_FUNCTIONS[node.func.id](*arguments))


def _check_power(base: Number, exponent: Number) -> None:
    """Refuse a power whose result would be huge before computing it (so `9**9**9` fails at once)."""
    if abs(base) <= 1:
        return
    if exponent * math.log2(abs(base)) > MAX_RESULT_BITS:
        raise CalculationError("the result is too large")


def _checked(value: Any) -> Number:
    if isinstance(value, complex):
        raise CalculationError("the result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_RESULT_BITS:
        raise CalculationError("the result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculationError(
            "the result is too large" if math.isinf(value) else "the result is not a number"
        )
    return value  # type: ignore[no-any-return]
