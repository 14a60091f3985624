"""The filter grammar: checked against a brute-force Python oracle on random runs and random
well-formed filters, plus malformed filters, injection attempts and MLflow's own search tests
(the cases are in ``mlflow_search_cases.py``)."""

from __future__ import annotations

import math
import random
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow_search_cases import (
    ACCEPTED_EXTENSIONS,
    FILTER_MATCHES,
    FILTERING_RUNS,
    INVALID_FILTERS,
    INVALID_ORDER_BYS,
    ORDER_MATCHES,
    REFUSED_VALID_FILTERS,
    SORTING_RUNS,
    SPECIAL_ORDERS,
    SPECIAL_VALUES,
    TIME_MATCHES,
    TIMED_RUNS,
    VALID_FILTERS,
    VALID_ORDER_BYS,
    MlflowRun,
)

import nbtrack
from nbtrack.exchange.mlflow import STATUS
from nbtrack.exchange.segments import importing
from nbtrack.store.schema import COLUMNS, arrow_schema
from nbtrack.values import encode_param

# ---- a store of random runs ---------------------------------------------------------------------
NAMES = ["base-1", "base-2", "sweep-a", "Sweep-B", "it's", "50%off"]
STRINGS = ["rf", "svm", "it's", "a%b", "RF", "x"]
TAGS = ["alpha", "beta", "3", "10", "2.5", "True"]


def random_run(rng: random.Random) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if rng.random() < 0.8:
        params["a"] = rng.choice([-3, -1, 0, 1, 2, 3, "x", "y"])
    if rng.random() < 0.7:
        params["b"] = rng.choice([0.001, 0.01, 0.5, 1.0, 1e-4, -2.5])
    if rng.random() < 0.7:
        params["s"] = rng.choice(STRINGS)
    if rng.random() < 0.6:
        params["f"] = rng.choice([True, False, 1, "true"])
    if rng.random() < 0.3:
        params["n"] = None
    history = [rng.choice([0.1, 0.25, 0.5, 0.75, 0.9, 1.0]) for _ in range(rng.randint(0, 3))]
    tags = {"t": rng.choice(TAGS)} if rng.random() < 0.7 else {}
    return {
        "name": rng.choice(NAMES),
        "experiment": rng.choice(["e1", "e2"]),
        "params": params,
        "m1": history,
        "tags": tags,
        "fail": rng.random() < 0.2,
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    nbtrack.set_store(tmp_path_factory.mktemp("filter") / "store")
    rng = random.Random(7)
    runs = {}
    for _ in range(300):
        spec = random_run(rng)
        try:
            with nbtrack.run(spec["name"], spec["experiment"], spec["params"],
                             spec["tags"]) as run:  # fmt: skip
                for value in spec["m1"]:
                    run.log(m1=value)
                if spec["fail"]:
                    raise RuntimeError("planned")
        except RuntimeError:
            pass
        runs[run.id] = spec
    nbtrack.flush()
    return runs


# ---- the oracle: SQL's three-valued logic, in Python (None = unknown) ---------------------------
def like(text: str, pattern: str, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE if fold else 0)) is not None


OPS = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}  # fmt: skip


def column(spec: dict[str, Any], ref: tuple[str, str]) -> Any:
    kind, key = ref
    if kind == "params":
        return spec["params"].get(key, None)
    if kind == "metrics":
        return spec["m1"][-1] if spec["m1"] else None
    if kind in ("min", "max"):
        return (min if kind == "min" else max)(spec["m1"]) if spec["m1"] else None
    if kind == "tags":
        return spec["tags"].get(key)
    return {"name": spec["name"], "experiment": spec["experiment"],
            "status": "failed" if spec["fail"] else "finished"}[key]  # fmt: skip


def compare(spec: dict[str, Any], ref: tuple[str, str], op: str, lit: Any) -> bool | None:
    value = column(spec, ref)
    kind = ref[0]
    if kind == "params" and ref[1] not in spec["params"]:
        return None
    if kind == "params":
        ptype, num, text = encode_param(value)
        if isinstance(lit, bool):
            return ptype == "bool" and OPS[op](text, "true" if lit else "false")
        if isinstance(lit, float):
            return None if num is None else OPS[op](num, lit)
        return None if ptype == "none" else OPS[op](text, lit)
    if value is None:
        return None
    if kind == "tags" and isinstance(lit, float):
        try:
            number = float(value)
        except ValueError:
            return None
        return None if math.isnan(number) else OPS[op](number, lit)
    if kind == "tags" and isinstance(lit, bool):
        return OPS[op](value.lower(), "true" if lit else "false")
    return OPS[op](value, lit)


def evaluate(spec: dict[str, Any], node: tuple) -> bool | None:
    op = node[0]
    if op == "and":
        values = [evaluate(spec, n) for n in node[1]]
        return False if False in values else (None if None in values else True)
    if op == "or":
        values = [evaluate(spec, n) for n in node[1]]
        return True if True in values else (None if None in values else False)
    if op == "not":
        value = evaluate(spec, node[1])
        return None if value is None else not value
    if op == "cmp":
        return compare(spec, node[1], node[2], node[3])
    if op == "in":
        return evaluate(spec, ("or", [("cmp", node[1], "=", v) for v in node[2]]))
    if op == "like":
        _, ref, fold, pattern = node
        value = column(spec, ref)
        if ref[0] == "params":
            if ref[1] not in spec["params"] or encode_param(value)[0] == "none":
                return None
            value = encode_param(value)[2]
        return None if value is None else like(value, pattern, fold)
    if op == "null":
        value = column(spec, node[1])
        present = value is not None and not (node[1][0] == "metrics" and not spec["m1"])
        return (not present) if not node[2] else present
    raise AssertionError(op)


# ---- random well-formed filters, as (text, tree) ------------------------------------------------
def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def literal_text(value: float | bool | str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else quote(value)


def ref_text(ref: tuple[str, str]) -> str:
    kind, key = ref
    if kind in ("min", "max"):
        return f"{kind}(metrics.{key})"
    return key if kind == "attr" else f"{kind}.{key}"


numbers = st.sampled_from([-3.0, -1.0, 0.0, 0.001, 0.01, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 1e-4])
atoms = st.one_of(
    st.tuples(st.just(("params", "a")), st.sampled_from(list(OPS)), numbers),
    st.tuples(
        st.just(("params", "a")), st.sampled_from(["=", "!="]), st.sampled_from(["x", "y", "1"])
    ),
    st.tuples(st.just(("params", "b")), st.sampled_from(list(OPS)), numbers),
    st.tuples(st.just(("params", "s")), st.sampled_from(list(OPS)), st.sampled_from(STRINGS)),
    st.tuples(st.just(("params", "f")), st.sampled_from(["=", "!="]), st.booleans()),
    st.tuples(
        st.just(("params", "f")), st.sampled_from(["=", "!="]), st.sampled_from(["true", "1"])
    ),
    st.tuples(
        st.sampled_from([("metrics", "m1"), ("min", "m1"), ("max", "m1")]),
        st.sampled_from(list(OPS)),
        numbers,
    ),
    st.tuples(st.just(("tags", "t")), st.sampled_from(list(OPS)), st.sampled_from(TAGS)),
    st.tuples(st.just(("tags", "t")), st.sampled_from(list(OPS)), numbers),
    st.tuples(st.just(("tags", "t")), st.sampled_from(["=", "!="]), st.booleans()),
    st.tuples(
        st.sampled_from([("attr", "name"), ("attr", "experiment"), ("attr", "status")]),
        st.sampled_from(list(OPS)),
        st.sampled_from([*NAMES, "e1", "e2", "failed"]),
    ),
).map(lambda t: (f"{ref_text(t[0])} {t[1]} {literal_text(t[2])}", ("cmp", *t)))
likes = st.tuples(
    st.sampled_from([("params", "s"), ("attr", "name"), ("tags", "t"), ("params", "a")]),
    st.booleans(), st.booleans(), st.sampled_from(["%", "r%", "%f", "_t's", "%\\%%", "b%", "S%"]),
).map(lambda t: (
    f"{ref_text(t[0])} {'NOT ' if t[1] else ''}{'ILIKE' if t[2] else 'LIKE'} {quote(t[3])}",
    ("not", ("like", t[0], t[2], t[3])) if t[1] else ("like", t[0], t[2], t[3]),
))  # fmt: skip
ins = st.tuples(
    st.sampled_from([("params", "s"), ("attr", "name"), ("params", "a")]), st.booleans(),
    st.lists(st.sampled_from(STRINGS + NAMES + ["x"]), min_size=1, max_size=3),
).map(lambda t: (
    f"{ref_text(t[0])} {'NOT ' if t[1] else ''}IN ({', '.join(quote(v) for v in t[2])})",
    ("not", ("in", t[0], t[2])) if t[1] else ("in", t[0], t[2]),
))  # fmt: skip
nulls = st.tuples(
    st.sampled_from([("params", "a"), ("params", "n"), ("tags", "t"), ("metrics", "m1")]),
    st.booleans(),
).map(lambda t: (f"{ref_text(t[0])} IS {'NOT ' if t[1] else ''}NULL", ("null", t[0], t[1])))

leaves = st.one_of(atoms, likes, ins, nulls)


def combine(children):
    return st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: (
                "(" + f" {t[0]} ".join(c[0] for c in t[1]) + ")",
                (t[0], [c[1] for c in t[1]]),
            )
        ),
        children.map(lambda c: (f"not {c[0]}", ("not", c[1]))),
        children.map(lambda c: (f"({c[0]})", c[1])),
    )


filters = st.recursive(leaves, combine, max_leaves=6)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(filters)
def test_filters_match_the_oracle(
    corpus: dict[str, dict[str, Any]], case: tuple[str, tuple]
) -> None:
    text, tree = case
    expected = sorted(rid for rid, spec in corpus.items() if evaluate(spec, tree) is True)
    got = sorted(nbtrack.search(text, include_deleted=True)["run_id"])
    assert got == expected, text


def test_the_corpus_exercises_both_outcomes(corpus: dict[str, dict[str, Any]]) -> None:
    some = nbtrack.search("params.a < 1 and tags.t IS NOT NULL")
    assert 0 < len(some) < len(corpus)


# ---- malformed filters --------------------------------------------------------------------------
MALFORMED = [
    ("parms.lr < 1", 0, "did you mean 'params'"),
    ("params. lr < 1", 7, "expected a key after 'params.'"),
    ("params.'lr < 1", 7, "unterminated quoted key"),
    ("attribute.artifact_uri = 'x'", 0, "nbtrack has no artifact_uri"),
    ("start_time > 1700000000000", 13, "looks like MLflow's epoch milliseconds"),
    ("status < 'FAILED'", 9, "has no order"),
    ("params.lr <", 11, "expected a value"),
    ("params.lr", 9, "expected a comparison"),
    ("params.lr = = 1", 12, "expected a value"),
    ("(params.lr < 1", 14, "to close the parenthesis"),
    ("params.lr < 1)", 13, "expected 'and', 'or'"),
    ("params.lr < 1 and", 17, "expected a column"),
    ("and params.lr < 1", 0, "expected a column"),
    ("params.lr < 1 params.x > 2", 14, "expected 'and', 'or'"),
    ("name = 'unterminated", 7, "unterminated string"),
    ("metrics.`val loss < 1", 8, "unterminated backtick"),
    ("metrics.acc = 'high'", 14, "is a number"),
    ("metrics.acc LIKE 'a%'", 17, "needs a text column"),
    ("name = 3", 7, "is text"),
    ("name LIKE 3", 10, "takes a 'string' pattern"),
    ("params.x IN 1, 2", 12, "expected '(' after IN"),
    ("params.x IN (1, 2", 17, "to close the IN list"),
    ("params.x IN ()", 13, "expected a value"),
    ("params.x IS 3", 12, "expected NULL after IS"),
    ("params.x NOT = 3", 13, "expected LIKE, ILIKE or IN after NOT"),
    ("colour = 'red'", 0, "unknown column 'colour'"),
    ("min(params.lr) < 1", 0, "applies to metrics only"),
    ("min metrics.loss < 1", 4, "expected '(' after min"),
    ("max(metrics.loss < 1", 17, "to close max("),
    ("params.flag < true", 14, "compared with a boolean"),
    ("start_time > 'yesterday'", 13, "not an ISO date-time"),
    ("duration > 'long'", 11, "is a number"),
    ("params.`` = 1", 0, "empty key"),
    ("params.lr ~ 1", 10, "unexpected character '~'"),
    ("tags.x = 'a' or", 15, "expected a column"),
]


@pytest.mark.parametrize(("text", "position", "message"), MALFORMED)
def test_malformed_filters_point_at_the_problem(
    tmp_store: Path, text: str, position: int, message: str
) -> None:
    with pytest.raises(nbtrack.FilterError) as caught:
        nbtrack.search(text)
    assert caught.value.position == position
    assert message in str(caught.value)
    caret_line = str(caught.value).splitlines()[-1]
    assert caret_line.index("^") - 2 == position


def test_injection_attempts_are_inert(tmp_store: Path) -> None:
    with nbtrack.run("victim", params={"lr": 0.1}, tags={"model": "rf"}):
        pass
    nbtrack.flush()
    attempts = [
        "name = 'x'' OR 1=1 --'",
        "name = 'x''; DROP TABLE runs; --'",
        "tags.`model' OR '1'='1` = 'rf'",
        "params.`lr) OR (1=1` > 0",
        "name LIKE '%'' OR ''1''=''1'",
    ]
    for text in attempts:
        assert nbtrack.search(text).empty, text
    with pytest.raises(nbtrack.FilterError):
        nbtrack.search("name = 'x'; DROP TABLE runs")
    assert nbtrack.search()["name"].tolist() == ["victim"]
    assert nbtrack.sql("SELECT count(*) FROM runs").fetchall() == [(1,)]


def test_times_aggregates_and_experiment_globs(tmp_store: Path) -> None:
    for i, exp in enumerate(["sweep-1", "sweep-2", "other"]):
        with nbtrack.run(f"r{i}", experiment=exp) as run:
            for v in (1.0 - i / 10, 0.5, 0.9):
                run.log(loss=v)
    frame = nbtrack.search(experiment="sweep-*", order_by="max(metrics.loss) DESC")
    assert frame["name"].tolist() == ["r0", "r1"]
    assert nbtrack.search(experiment=["other", "sweep-2"], order_by="name")["name"].tolist() == [
        "r1", "r2",
    ]  # fmt: skip
    assert len(nbtrack.search("start_time > '2000-01-01T00:00:00+00:00'")) == 3
    assert len(nbtrack.search("start_time < 946684800")) == 0  # epoch seconds of 2000-01-01
    assert len(nbtrack.search("duration >= 0 and min(metrics.loss) = 0.5")) == 3


def test_outputs(tmp_store: Path) -> None:
    with nbtrack.run(params={"mixed": 1}):
        pass
    with nbtrack.run(params={"mixed": "text", "layers": [1, 2]}):
        pass
    table = nbtrack.search(output="arrow", order_by="start_time")
    assert table.column("params.mixed").to_pylist() == ["1", "text"]
    assert table.num_rows == 2
    with pytest.raises(ValueError, match="output must be one of"):
        nbtrack.search(output="excel")


# ---- MLflow's own search tests ------------------------------------------------------------------
def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def run_rows(run: MlflowRun) -> dict[str, list[dict[str, Any]]]:
    """The store's rows for ``run``, as nbtrack's MLflow import writes them (no end event for
    an MLflow status without an nbtrack end state, so such a run shows as crashed)."""
    rid, start = run.run_id, at_ms(run.start_ms)
    ended = STATUS.get(run.status)
    events = [("started", start)] + ([(ended, at_ms(run.end_ms))] if ended else [])
    return {
        "runs": [{"run_id": rid, "experiment": "Default", "name": rid, "created_at": start,
                  "writer": "mlflow-cases", "user": run.user_id}],
        "params": [{"run_id": rid, "key": k, "timestamp": start, **param_columns(v)}
                   for k, v in run.params.items()],
        "tags": [{"run_id": rid, "key": k, "value": v, "timestamp": start}
                 for k, v in run.tags.items()],
        "metrics": [{"run_id": rid, "key": k, "step": 0, "timestamp": start, "value": v}
                    for k, v in run.metrics.items()],
        "events": [{"run_id": rid, "timestamp": t, "kind": kind} for kind, t in events],
        "inputs": [{"run_id": rid, "name": name, "digest": digest, "context": context,
                    "timestamp": start} for name, digest, context in run.inputs],
    }  # fmt: skip


def param_columns(value: Any) -> dict[str, Any]:
    return dict(zip(("type", "num", "text"), encode_param(value), strict=True))


def store_runs(runs: list[MlflowRun]) -> list[str]:
    """Put ``runs`` into the current store; their ids, in order."""
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in COLUMNS}
    for run in runs:
        for table, table_rows in run_rows(run).items():
            rows[table] += table_rows
    with importing("mlflow-cases") as job:
        for table, table_rows in rows.items():
            if table_rows:
                job.segments.add(table, pa.Table.from_pylist(table_rows, arrow_schema(table)))
    return [run.run_id for run in runs]


@pytest.fixture
def filtering_runs(tmp_store: Path) -> list[str]:
    return store_runs(FILTERING_RUNS)


def matching(text: str) -> set[str]:
    return set(nbtrack.search(text, include_deleted=True)["run_id"])


@pytest.mark.parametrize("text", [f for f in VALID_FILTERS if f not in REFUSED_VALID_FILTERS])
def test_mlflow_valid_filters_run(filtering_runs: list[str], text: str) -> None:
    matching(text)  # parses, and its SQL runs


@pytest.mark.parametrize(("text", "reason"), REFUSED_VALID_FILTERS.items())
def test_mlflow_filters_without_an_nbtrack_meaning_say_so(
    tmp_store: Path, text: str, reason: str
) -> None:
    with pytest.raises(nbtrack.FilterError, match=reason) as caught:
        nbtrack.search(text)
    assert caught.value.position == 0


@pytest.mark.parametrize(("text", "expected"), FILTER_MATCHES)
def test_mlflow_filters_match_the_same_runs(
    filtering_runs: list[str], text: str, expected: list[int]
) -> None:
    assert matching(text) == {filtering_runs[i] for i in expected}


@pytest.mark.parametrize(("text", "expected"), TIME_MATCHES)
def test_mlflow_time_and_user_filters(tmp_store: Path, text: str, expected: list[int]) -> None:
    ids = store_runs(TIMED_RUNS)
    assert matching(text) == {ids[i] for i in expected}


@pytest.mark.parametrize(("order_by", "expected"), ORDER_MATCHES)
def test_mlflow_order_by_sorts_the_same(
    tmp_store: Path, order_by: list[str] | None, expected: list[int]
) -> None:
    ids = store_runs(SORTING_RUNS)
    assert nbtrack.search(order_by=order_by)["run_id"].tolist() == [ids[i] for i in expected]


@pytest.mark.parametrize(("order_by", "expected"), SPECIAL_ORDERS.items())
def test_mlflow_order_puts_nan_after_numbers_and_missing_last(
    tmp_store: Path, order_by: str, expected: list[str]
) -> None:
    runs = [MlflowRun(v, "FINISHED", metrics={} if v == "None" else {"x": float(v)})
            for v in SPECIAL_VALUES]  # fmt: skip
    store_runs(runs)
    assert nbtrack.search(order_by=order_by)["run_id"].tolist() == expected


@pytest.mark.parametrize("order_by", VALID_ORDER_BYS)
def test_mlflow_order_by_spellings_run(filtering_runs: list[str], order_by: str) -> None:
    assert len(nbtrack.search(order_by=order_by)) == len(filtering_runs)


def assert_refused_with_a_position(text: str, **search: Any) -> None:
    with pytest.raises(nbtrack.FilterError) as caught:
        nbtrack.search(**search)
    assert 0 <= caught.value.position <= len(text)
    assert str(caught.value).splitlines()[-1].index("^") - 2 == caught.value.position


@pytest.mark.parametrize("text", [f for f in INVALID_FILTERS if f not in ACCEPTED_EXTENSIONS])
def test_mlflow_invalid_filters_are_refused(tmp_store: Path, text: str) -> None:
    assert_refused_with_a_position(text, filter=text)


@pytest.mark.parametrize("text", [t for t in INVALID_ORDER_BYS if t not in ACCEPTED_EXTENSIONS])
def test_mlflow_invalid_order_bys_are_refused(tmp_store: Path, text: str) -> None:
    assert_refused_with_a_position(text, order_by=text)


@pytest.mark.parametrize("text", ACCEPTED_EXTENSIONS)
def test_what_mlflow_refuses_but_nbtrack_accepts_is_listed(
    filtering_runs: list[str], text: str
) -> None:
    if text in INVALID_ORDER_BYS:
        nbtrack.search(order_by=text)
    else:
        assert text in INVALID_FILTERS
        matching(text)


def test_mlflow_statuses_map_onto_nbtrack_states(tmp_store: Path) -> None:
    ids = {"crashed": store_runs([MlflowRun("gone", "RUNNING")])[0]}
    for state in ("finished", "failed", "interrupted", "killed"):
        with nbtrack.run(state) as run:
            run.end(state)
        ids[state] = run.id
    ids["running"] = nbtrack.start_run("running").id
    nbtrack.flush()

    def states(text: str) -> set[str]:
        return {state for state, rid in ids.items() if rid in matching(text)}

    assert states("status = 'crashed'") == {"crashed"}
    assert states("run.status = 'RUNNING'") == {"running", "crashed"}
    assert states("status = 'Finished'") == states("status = 'finished'") == {"finished"}
    assert states("attributes.status = 'FAILED'") == {"failed"}
    assert states("status = 'KILLED'") == {"killed", "interrupted"}
    assert states("status = 'killed'") == {"killed"}
    assert states("status = 'SCHEDULED'") == set()
    assert states("status != 'KILLED'") == {"finished", "failed", "running", "crashed"}
    assert states("status IN ('FAILED', 'KILLED')") == {"failed", "killed", "interrupted"}
    assert states("status NOT IN ('RUNNING', 'failed')") == {"finished", "interrupted", "killed"}


def test_mlflow_attribute_names(tmp_store: Path) -> None:
    with nbtrack.run("alpha"):
        pass
    with nbtrack.run("beta"):
        pass
    nbtrack.flush()
    user = nbtrack.sql("SELECT any_value(user) FROM runs").fetchall()[0][0]
    for text in ("run_name = 'alpha'", "attr.run_name = 'alpha'", "`Run name` = 'alpha'",
                 '"run name" ILIKE \'ALPHA\'', "attributes.`name` = 'alpha'"):  # fmt: skip
        assert nbtrack.search(text)["name"].tolist() == ["alpha"], text
    assert len(nbtrack.search(f"attribute.user_id = '{user}'")) == 2
    assert nbtrack.search(order_by="attributes.run_name DESC")["name"].tolist() == ["beta", "alpha"]
    assert len(nbtrack.search("created > '2000-01-01' and Created < 4102444800")) == 2
