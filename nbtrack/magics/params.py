"""Params of a tracked cell: literal assignments found in its source, and named variables.

Captured from top-level statements only::

    lr = 0.01              # numbers (also -3, 1e-4), strings, bools, None
    layers = [64, 64]      # tuples, lists, dicts of literals
    a = b = 1              # every name of a chained assignment
    x: float = 0.1         # annotated assignments
    n, m = 10, 20          # tuple unpacking of literals

Not captured: computed values (``f(1)``, ``2 * lr``), attributes and subscripts, augmented
assignments, names starting with ``_``, and anything inside ``if``/``for``/``def`` blocks.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping
from typing import Any

from ..errors import NbtrackWarning

# Longest text kept for a value that is not a plain param (its repr is cut to this length).
MAX_SUMMARY_CHARS = 200


def _literal(node: ast.expr) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _bind(target: ast.expr, value: ast.expr, out: dict[str, Any]) -> None:
    if isinstance(target, ast.Name):
        ok, literal = _literal(value)
        if ok and not target.id.startswith("_"):
            out[target.id] = literal
    elif (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
    ):
        for t, v in zip(target.elts, value.elts, strict=True):
            _bind(t, v, out)


def literal_params(source: str) -> dict[str, Any]:
    """Params assigned as literals at the top level of ``source`` (Python code)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                _bind(target, node.value, out)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            _bind(node.target, node.value, out)
    return out


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def summarize(name: str, value: Any) -> Any:
    """``value`` as a param: plain values as they are, others summarised (with a warning)."""
    if _is_plain(value):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # numpy / torch scalar
        return item()
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if isinstance(shape, tuple):  # arrays, tensors, DataFrames
        kind = f", dtype={dtype}" if dtype is not None else ""
        text = f"{type(value).__name__}(shape={shape}{kind})"
    else:
        text = repr(value)
        if len(text) > MAX_SUMMARY_CHARS:
            text = text[: MAX_SUMMARY_CHARS - 1] + "…"
    warnings.warn(
        f"param {name!r} is a {type(value).__name__}, stored as the text {text!r}; "
        "log numbers, strings or lists/dicts of them to keep the value itself",
        NbtrackWarning,
        stacklevel=3,
    )
    return text


def named_params(names: list[str], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The variables ``names`` read from ``namespace`` (missing ones are warned about)."""
    out = {}
    for name in names:
        if name in namespace:
            out[name] = summarize(name, namespace[name])
        else:
            warnings.warn(
                f"-p {name}: there is no variable {name!r} after the cell; check the name",
                NbtrackWarning,
                stacklevel=3,
            )
    return out
