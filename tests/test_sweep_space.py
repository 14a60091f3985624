"""The search space of sweeps: syntax, errors, grids, sampling, JSON and Optuna suggestions."""

from __future__ import annotations

import json
import math
import random
import warnings
from typing import Any

import numpy as np
import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbtrack.errors import ProjectError, SweepError
from nbtrack.sweeps.space import (
    Choice,
    Dimension,
    IntRange,
    IntUniform,
    LogUniform,
    Space,
    Uniform,
    choice,
    int_uniform,
    loguniform,
    uniform,
)


def dim(text: str, name: str = "p") -> Dimension:
    return Space.from_cli([f"{name}={text}"]).dims[name]


def study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=3))


# --- the command line syntax ---------------------------------------------------------------


def test_a_comma_list_is_a_choice_of_typed_values() -> None:
    space = Space.from_cli(["lr=0.001,0.01,0.1", "opt=adam,sgd", "flag=true,false,none"])
    assert space.dims["lr"] == Choice((0.001, 0.01, 0.1), name="lr")
    assert space.dims["opt"] == Choice(("adam", "sgd"), name="opt")
    assert space.dims["flag"].grid() == [True, False, None]
    assert [type(v) for v in dim("3,0.5,adam,true").grid()] == [int, float, str, bool]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("[64,64],[128]", [[64, 64], [128]]),
        ("'a,b',c", ["a,b", "c"]),
        ('"x, y" , z', ["x, y", "z"]),
        ("(1,2),(3,)", [(1, 2), (3,)]),
        ("[[1,2],[3]],[]", [[[1, 2], [3]], []]),
        ("{'a': 1, 'b': [2,3]},{}", [{"a": 1, "b": [2, 3]}, {}]),
        ("'a\\'b',c", ["a'b", "c"]),
        ("'10:30','f(x)'", ["10:30", "f(x)"]),
        (" 1 , 2 ", [1, 2]),
    ],
)
def test_brackets_and_quotes_do_not_split(text: str, values: list[Any]) -> None:
    assert dim(text).grid() == values


def test_a_single_value_is_a_fixed_param() -> None:
    space = Space.from_cli(["lr=0.01", "layers=[64,64]", "name='a:b'", "d={'k': 1}"])
    assert space.grid() == [{"lr": 0.01, "layers": [64, 64], "name": "a:b", "d": {"k": 1}}]
    assert space.grid_size() == 1
    assert space.sample(random.Random(0)) == space.grid()[0]
    assert repr(space) == "Space(lr=0.01, layers=[64, 64], name='a:b', d={'k': 1})"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("2:8", [2, 3, 4, 5, 6, 7, 8]),
        ("2:8:2", [2, 4, 6, 8]),
        ("2:9:3", [2, 5, 8]),
        ("-3:1", [-3, -2, -1, 0, 1]),
        ("5:5", [5]),
        (" 0 : 10 : 5 ", [0, 5, 10]),
        ("+1:2", [1, 2]),
    ],
)
def test_an_int_range_is_inclusive(text: str, values: list[int]) -> None:
    parsed = dim(text)
    assert isinstance(parsed, IntRange)
    assert parsed.grid() == values
    assert parsed.size == len(values)


def test_functions() -> None:
    assert dim("uniform(0, 1)") == Uniform(0.0, 1.0, name="p")
    assert dim("loguniform(1e-5,0.1)") == LogUniform(1e-5, 0.1, name="p")
    assert dim("int_uniform(2, 8)") == IntUniform(2, 8, name="p")
    assert dim("choice(adam, 'sgd', [1,2], 3)") == Choice(("adam", "sgd", [1, 2], 3), name="p")
    assert dim("choice(7)").grid() == [7]
    assert dim("uniform ( -1 , 1.5 )") == Uniform(-1.0, 1.5, name="p")


def test_int_uniform_is_enumerated_by_a_grid() -> None:
    assert int_uniform(2, 5).grid() == [2, 3, 4, 5]
    assert Space.parse({"k": "int_uniform(-1,1)"}).grid_size() == 3


# --- Python dicts --------------------------------------------------------------------------


def test_python_values() -> None:
    space = Space.parse(
        {
            "lr": loguniform(1e-4, 1e-1),
            "momentum": uniform(0, 1),
            "depth": range(2, 5),
            "opt": ["adam", "sgd"],
            "layers": ([64, 64], [128]),
            "batch": "16,32",
            "units": int_uniform(1, 3),
            "act": choice("relu", "gelu"),
            "seed": 0,
            "config": {"a": 1},
            "none": None,
            "text": "rf",
            "grid": np.linspace(0, 1, 3),
            "count": np.int64(3),
        }
    )
    dims = space.dims
    assert dims["lr"] == LogUniform(1e-4, 1e-1, name="lr")
    assert dims["momentum"] == Uniform(0.0, 1.0, name="momentum")
    assert dims["depth"] == Choice((2, 3, 4), name="depth")
    assert dims["opt"].grid() == ["adam", "sgd"]
    assert dims["layers"].grid() == [[64, 64], [128]]
    assert dims["batch"].grid() == [16, 32]
    assert dims["units"] == IntUniform(1, 3, name="units")
    assert dims["act"] == Choice(("relu", "gelu"), name="act")
    assert [dims[k].grid() for k in ("seed", "config", "none", "text")] == [
        [0],
        [{"a": 1}],
        [None],
        ["rf"],
    ]
    assert dims["grid"].grid() == [0.0, 0.5, 1.0]
    assert dims["count"].grid() == [3]
    assert list(dims) == list(space.dims)  # order kept
    assert all(d.name == key for key, d in dims.items())


def test_one_dimension_object_can_serve_two_params() -> None:
    shared = uniform(0, 1)
    space = Space.parse({"a": shared, "b": shared})
    assert (space.dims["a"].name, space.dims["b"].name, shared.name) == ("a", "b", "")
    assert Space.parse(space) is space


def test_constructors_match_the_syntax() -> None:
    assert uniform(0, 1).named("p") == dim("uniform(0,1)")
    assert loguniform(1e-3, 1).named("p") == dim("loguniform(0.001,1)")
    assert int_uniform(1, 4).named("p") == dim("int_uniform(1,4)")
    assert choice(1, "a").named("p") == dim("1,a") == dim("choice(1,a)")
    assert IntRange(2, 8, 2, name="p") == dim("2:8:2")


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ("a=", "no value"),
        ("a=1,,2", "an empty value"),
        ("a=1,", "an empty value"),
        ("a=8:2", "write it upwards: 2:8"),
        ("a=1.5:3", "both ends must be integers"),
        ("a=1:x", "both ends must be integers"),
        ("a=http://host", "quote text that holds ':'"),
        ("a=1:2:3:4", "start:end:step"),
        ("a=2:8:0", "step must be 1 or more"),
        ("a=2:8:-1", "step must be 1 or more"),
        ("a=uniform(1)", "takes lo and hi"),
        ("a=uniform(0,1,2)", "takes lo and hi"),
        ("a=uniform()", "takes lo and hi"),
        ("a=uniform(2,1)", "lo must be below hi"),
        ("a=uniform(1,1)", "lo must be below hi"),
        ("a=uniform(x,1)", "must be a finite number"),
        ("a=uniform(0,inf)", "must be a finite number"),
        ("a=uniform(true,2)", "must be a finite number"),
        ("a=loguniform(0,1)", "lo above 0"),
        ("a=loguniform(-1,1)", "lo above 0"),
        ("a=int_uniform(1.5,3)", "must be an integer"),
        ("a=int_uniform(3,1)", "lo must not be above hi"),
        ("a=normal(0,1)", "unknown function normal()"),
        ("a=quniform(0,1)", "unknown function quniform()"),
        ("a=choice()", "no values to choose from"),
        ("a=1,1", "given twice"),
        ("a=[1,2", "lacks a closing ']'"),
        ("a='x", "lacks a closing"),
        ("a=[1,2)", "unbalanced ')'"),
        ("a=1)", "unbalanced ')'"),
        ("a=1,2:3", "cannot be one of several values"),
        ("a=uniform(0,1),3", "cannot be one of several values"),
    ],
)
def test_bad_syntax_names_the_param_and_shows_the_syntax(item: str, says: str) -> None:
    with pytest.raises(SweepError) as caught:
        Space.from_cli([item])
    message = str(caught.value)
    assert "sweep param 'a'" in message
    assert says in message
    assert "accepted: a,b,c (a choice)" in message and "loguniform(lo,hi)" in message


@pytest.mark.parametrize("item", ["lr0.01", "=3", " =1", ""])
def test_an_option_without_key_equals_is_refused(item: str) -> None:
    with pytest.raises(SweepError, match=r"must be KEY=VALUES, e\.g\. -p lr=0\.001,0\.01"):
        Space.from_cli([item])


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(SweepError, match=r"'lr': given twice; give all its values in one option"):
        Space.from_cli(["lr=0.1", "lr=0.01"])


def test_sweep_errors_are_project_errors_and_value_errors() -> None:
    with pytest.raises(ProjectError):
        Space.from_cli(["a=1:x"])
    with pytest.raises(ValueError):
        Space.from_cli(["a=1:x"])


def test_bad_python_spaces() -> None:
    with pytest.raises(SweepError, match="must be a dict of param name to values, got list"):
        Space.parse(["lr=0.1"])  # type: ignore[arg-type]
    with pytest.raises(SweepError, match="non-empty strings, got 3"):
        Space.parse({3: [1, 2]})
    with pytest.raises(SweepError, match="non-empty strings"):
        Space.parse({"": [1, 2]})
    with pytest.raises(SweepError, match="'s': a set has no order; give a list"):
        Space.parse({"s": {1, 2}})
    with pytest.raises(SweepError, match="'e': no values to choose from"):
        Space.parse({"e": []})
    with pytest.raises(SweepError, match=r"'layers': the value 64 is given twice.*\[\[64, 64\]"):
        Space.parse({"layers": [64, 64]})
    with pytest.raises(SweepError, match="is not a Dimension"):
        Space({"lr": 0.1})  # type: ignore[dict-item]
    with pytest.raises(SweepError, match="sweep space: the range 3:1 is empty; write it upwards"):
        Space.parse({"d": IntRange(3, 1)})


def test_constructors_check_their_bounds() -> None:
    with pytest.raises(SweepError, match=r"sweep space: uniform\(1.0, 0.0\) is empty"):
        uniform(1, 0)
    with pytest.raises(SweepError, match="loguniform needs lo above 0"):
        loguniform(0, 1)
    with pytest.raises(SweepError, match=r"must be an integer, got 2\.5"):
        int_uniform(1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(SweepError, match="must be an integer, got True"):
        IntRange(True, 3)
    with pytest.raises(SweepError, match="no values to choose from"):
        choice()


# --- grids ---------------------------------------------------------------------------------


def test_the_grid_is_a_product_with_the_last_param_fastest() -> None:
    space = Space.from_cli(["a=1,2", "b=x,y,z", "c=0:1"])
    assert space.grid_size() == 12
    grid = space.grid()
    assert len(grid) == 12
    assert grid[:4] == [
        {"a": 1, "b": "x", "c": 0},
        {"a": 1, "b": "x", "c": 1},
        {"a": 1, "b": "y", "c": 0},
        {"a": 1, "b": "y", "c": 1},
    ]
    assert grid[-1] == {"a": 2, "b": "z", "c": 1}
    assert [list(combo) for combo in grid] == [["a", "b", "c"]] * 12
    assert len({json.dumps(combo) for combo in grid}) == 12


def test_an_empty_space_is_one_run_without_params() -> None:
    assert (Space().grid(), Space().grid_size(), repr(Space())) == ([{}], 1, "Space()")


def test_a_continuous_param_has_no_grid() -> None:
    space = Space.parse({"depth": "2:4", "lr": loguniform(1e-4, 1e-1)})
    assert space.grid_size() is None
    with pytest.raises(SweepError, match=r"sweep param 'lr': loguniform\(0.0001, 0.1\) is contin"):
        space.grid()
    with pytest.raises(SweepError, match="--random N or --optuna N"):
        uniform(0, 1).grid()
    both = Space.parse({"a": uniform(0, 1), "b": "loguniform(1,2)"})
    with pytest.raises(SweepError, match=r"params 'a', 'b' are continuous.*--random N"):
        both.grid()


def test_each_combination_gets_its_own_copy_of_list_values() -> None:
    space = Space.parse({"layers": [[64, 64], [128]]})
    first = space.grid()[0]["layers"]
    first.append(1)
    assert space.grid()[0]["layers"] == [64, 64]
    space.sample(random.Random(0))["layers"].append(1)
    assert space.dims["layers"].grid() == [[64, 64], [128]]


# --- sampling ------------------------------------------------------------------------------


SPACE = Space.parse(
    {
        "lr": loguniform(1e-5, 1e-1),
        "m": uniform(-1, 1),
        "k": int_uniform(1, 3),
        "d": "2:10:4",
        "opt": ["adam", "sgd", [1, 2]],
        "seed": 7,
    }
)


def test_sampling_is_reproducible_by_seed() -> None:
    first = [SPACE.sample(random.Random(42)) for _ in range(2)]
    rng_a, rng_b = random.Random(5), random.Random(5)
    assert first[0] == first[1]
    assert [SPACE.sample(rng_a) for _ in range(20)] == [SPACE.sample(rng_b) for _ in range(20)]
    draws = [SPACE.sample(random.Random(seed)) for seed in range(20)]
    assert len({json.dumps(d) for d in draws}) == 20


def test_samples_stay_in_bounds_and_reach_every_integer() -> None:
    rng = random.Random(0)
    draws = [SPACE.sample(rng) for _ in range(400)]
    assert all(1e-5 <= d["lr"] <= 1e-1 for d in draws)
    assert all(-1 <= d["m"] <= 1 for d in draws)
    assert {d["k"] for d in draws} == {1, 2, 3}
    assert {d["d"] for d in draws} == {2, 6, 10}
    assert {json.dumps(d["opt"]) for d in draws} == {'"adam"', '"sgd"', "[1, 2]"}
    assert {d["seed"] for d in draws} == {7}
    assert all(type(d["k"]) is int and type(d["lr"]) is float for d in draws)


def test_loguniform_spreads_evenly_over_decades() -> None:
    rng, dimension = random.Random(1), loguniform(1e-4, 1)
    draws = [dimension.sample(rng) for _ in range(4000)]
    below = sum(value < 1e-2 for value in draws) / len(draws)
    assert 0.45 < below < 0.55  # a uniform draw would put 1% below 1e-2


@given(
    low=st.floats(1e-300, 1e300),
    ratio=st.floats(1.0000001, 1e10),
    seed=st.integers(0, 2**32),
)
def test_loguniform_samples_are_within_bounds(low: float, ratio: float, seed: int) -> None:
    high = low * ratio
    if not math.isfinite(high) or high <= low:
        return
    value = loguniform(low, high).sample(random.Random(seed))
    assert low <= value <= high


@given(low=st.integers(-50, 50), width=st.integers(0, 20), step=st.integers(1, 5))
def test_int_ranges_are_inclusive(low: int, width: int, step: int) -> None:
    high = low + width
    values = IntRange(low, high, step).grid()
    assert values[0] == low and values[-1] <= high and high - values[-1] < step
    assert IntRange(low, high, step).size == len(values) == width // step + 1
    assert int_uniform(low, high).grid() == list(range(low, high + 1))
    rng = random.Random(low)
    assert {IntUniform(low, high).sample(rng) for _ in range(30 * (width + 1))} == set(
        range(low, high + 1)
    )


# --- JSON ----------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    saved = json.dumps(SPACE.to_json())
    assert Space.from_json(json.loads(saved)) == SPACE
    assert repr(Space.from_json(json.loads(saved))) == repr(SPACE)
    for dimension in SPACE.dims.values():
        assert Dimension.from_json(json.loads(json.dumps(dimension.to_json()))) == dimension


def test_json_layout() -> None:
    space = Space.from_cli(["depth=2:8:2", "lr=loguniform(0.001,0.1)"])
    assert space.to_json() == {
        "format": 1,
        "params": [
            {"type": "int_range", "name": "depth", "low": 2, "high": 8, "step": 2},
            {"type": "loguniform", "name": "lr", "low": 0.001, "high": 0.1},
        ],
    }


def test_json_keeps_plain_values_and_turns_tuples_into_lists() -> None:
    space = Space.parse({"t": [(1, 2), (3,)], "n": [np.float64(0.5), 2]})
    back = Space.from_json(json.loads(json.dumps(space.to_json())))
    assert back.dims["t"].grid() == [[1, 2], [3]]
    assert back.dims["n"].grid() == [0.5, 2]


def test_values_json_cannot_hold_are_refused_when_saved() -> None:
    space = Space.parse({"model": [len, str]})
    assert space.grid_size() == 2  # usable in the process
    with pytest.raises(SweepError, match="'model': the value <built-in function len> cannot be"):
        space.to_json()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"format": 99, "params": []}, "has format 99, this nbtrack reads format 1"),
        ([], "has format 'list'"),
        ({"format": 1}, "no list of params"),
        ({"format": 1, "params": [{"type": "normal", "name": "x"}]}, "unknown type 'normal'"),
        ({"format": 1, "params": [{"type": "uniform", "name": "x"}]}, "malformed 'uniform'"),
        (
            {"format": 1, "params": [{"type": "uniform", "name": "x", "low": 2, "high": 1}]},
            "'x': uniform(2.0, 1.0) is empty",
        ),
    ],
)
def test_a_bad_saved_space_is_refused(data: Any, says: str) -> None:
    with pytest.raises(SweepError) as caught:
        Space.from_json(data)
    assert says in str(caught.value)


# --- Optuna --------------------------------------------------------------------------------


def test_optuna_suggestions_follow_the_space() -> None:
    space = Space.parse(
        {
            "lr": loguniform(1e-5, 1e-1),
            "m": uniform(0, 1),
            "k": int_uniform(1, 3),
            "d": "2:9:3",
            "opt": "adam,sgd,none",
            "layers": [[64, 64], [128]],
            "seed": 7,
        }
    )
    optimiser = study()
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. optuna's warning about lists as categories
        for number in range(12):  # past the 3 random trials: TPE reads the stored params back
            trial = optimiser.ask()
            params = space.suggest(trial)
            optimiser.tell(trial, params["lr"] + number)
            seen.append(params)
    assert all(list(p) == list(space.dims) for p in seen)
    assert all(1e-5 <= p["lr"] <= 1e-1 and 0 <= p["m"] <= 1 for p in seen)
    assert {p["k"] for p in seen} <= {1, 2, 3}
    assert {p["d"] for p in seen} <= {2, 5, 8}
    assert {p["opt"] for p in seen} <= {"adam", "sgd", None}
    assert all(p["layers"] in ([64, 64], [128]) and p["seed"] == 7 for p in seen)
    distributions = optimiser.trials[0].distributions
    assert distributions["lr"] == optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True)
    assert distributions["d"] == optuna.distributions.IntDistribution(2, 8, step=3)
    assert distributions["opt"].choices == ("adam", "sgd", None)
    assert distributions["layers"].choices == ("[64, 64]", "[128]")


def test_optuna_keeps_one_true_and_one_point_zero_apart() -> None:
    dimension = choice(1, True, 1.0).named("x")
    optimiser = study()
    got = []
    for _ in range(30):
        trial = optimiser.ask()
        got.append(dimension.suggest(trial))
        optimiser.tell(trial, 0.0)
    assert {(type(v), v) for v in got} == {(int, 1), (bool, True), (float, 1.0)}


def test_optuna_suggests_every_list_value_as_itself() -> None:
    dimension = Choice(([1], [2], {"a": 3}), name="v")
    optimiser = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    got = [dimension.suggest(optimiser.ask()) for _ in range(30)]
    assert {json.dumps(v) for v in got} == {"[1]", "[2]", '{"a": 3}'}


def test_a_dimension_outside_a_space_cannot_suggest() -> None:
    with pytest.raises(SweepError, match="no param name, which Optuna needs; put it in a Space"):
        uniform(0, 1).suggest(study().ask())


# --- round trips through the text syntax ---------------------------------------------------


literals = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=5,
)


@given(st.lists(literals, min_size=1, max_size=5, unique_by=lambda v: (type(v), repr(v))))
def test_a_choice_reads_back_from_its_text(values: list[Any]) -> None:
    dimension = Choice(values, name="p")
    assert dim(str(dimension)) == dimension


@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(1e-3, 1e6),
    start=st.integers(-100, 100),
    step=st.integers(1, 4),
)
def test_a_space_reads_back_from_its_repr(low: float, width: float, start: int, step: int) -> None:
    space = Space.parse(
        {
            "u": uniform(low, low + width),
            "g": loguniform(abs(low) + 1, abs(low) + 1 + width),
            "r": IntRange(start, start + 7, step),
            "i": int_uniform(start, start + 2),
        }
    )
    items = [f"{name}={d}" for name, d in space.dims.items()]
    assert Space.from_cli(items) == space
    assert repr(space).startswith("Space(u=uniform(")
