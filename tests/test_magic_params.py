"""Which assignments of a tracked cell become params (the rules in nbtrack/magics/params.py)."""

from __future__ import annotations

import numpy as np
import pytest

import nbtrack
from nbtrack.magics.params import literal_params, named_params


def test_literal_assignments_are_captured() -> None:
    source = """
lr = 0.01
neg = -3
sci = 1e-4
name = "rf"
flag = True
nothing = None
layers = [64, 64]
shape = (3, 4)
opts = {"a": 1, "b": [True, None]}
a = b = 7
x: float = 0.1
n, m = 10, 20
"""
    assert literal_params(source) == {
        "lr": 0.01, "neg": -3, "sci": 1e-4, "name": "rf", "flag": True, "nothing": None,
        "layers": [64, 64], "shape": (3, 4), "opts": {"a": 1, "b": [True, None]},
        "a": 7, "b": 7, "x": 0.1, "n": 10, "m": 20,
    }  # fmt: skip


def test_computed_nested_and_private_values_are_not_captured() -> None:
    source = """
import math
y = math.sqrt(2)
z = 2 * 3
obj.attr = 1
d["k"] = 2
count = 0
count += 1
_private = 5
ann: int
if True:
    inside = 1
for i in range(3):
    loop = i
def f():
    local = 1
p, q = 1
"""
    assert literal_params(source) == {"count": 0}


def test_invalid_source_captures_nothing() -> None:
    assert literal_params("x = (") == {}


def test_named_params_summarise_what_cannot_be_stored() -> None:
    namespace = {"k": 5, "arr": np.zeros((2, 3)), "scalar": np.float64(0.5), "obj": object()}
    with pytest.warns(nbtrack.NbtrackWarning) as caught:
        got = named_params(["k", "arr", "scalar", "obj", "missing"], namespace)
    assert got["k"] == 5 and got["scalar"] == 0.5
    assert got["arr"] == "ndarray(shape=(2, 3), dtype=float64)"
    assert got["obj"].startswith("<object object at")
    messages = " ".join(str(w.message) for w in caught)
    assert "'arr' is a ndarray" in messages and "no variable 'missing'" in messages
