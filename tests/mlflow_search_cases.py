"""MLflow's own test cases for its run search grammar, as data for ``test_filter.py``.

Taken from ``tests/utils/test_search_utils.py`` of mlflow/mlflow (commit 00fe60ae). MLflow's
times are epoch milliseconds, nbtrack's epoch seconds; where a case differs in meaning, its
comment says how it was translated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---- filters MLflow parses: test_filter and test_correct_quote_trimming --------------------------
VALID_FILTERS = [
    "metric.acc >= 0.94",
    "metric.acc>=100",
    "params.m!='tf'",
    'params."m"!="tf"',
    'metric."legit name" >= 0.243',
    "metrics.XYZ = 3",
    'params."cat dog" = "pets"',
    'metrics."X-Y-Z" = 3',
    'metrics."X//Y#$$@&Z" = 3',
    "params.model = 'LinearRegression'",
    "metrics.rmse < 1 and params.model_class = 'LR'",
    "",
    "`metric`.a >= 0.1",
    "`params`.model >= 'LR'",
    "tags.version = 'commit-hash'",
    "`tags`.source_name = 'a notebook'",
    'metrics."accuracy.2.0" > 5',
    "metrics.`spacey name` > 5",
    'params."p.a.r.a.m" != "a"',
    'tags."t.a.g" = "a"',
    "attribute.artifact_uri = '1/23/4'",
    "attribute.start_time >= 1234",
    "run.status = 'RUNNING'",
    "dataset.name = 'my_dataset'",
    "tags.version IS NULL",
    "tags.version IS NOT NULL",
    "params.lr IS NULL",
    "params.lr IS NOT NULL",
    "tags.a IS NULL AND params.b = 'val'",
    "params.m = 'LR'",
    'params.m = "LR"',
    'params.m = "L\'Hosp"',
]
# Valid in MLflow, refused here on purpose (a FilterError that says why): no nbtrack meaning.
REFUSED_VALID_FILTERS = {
    "attribute.artifact_uri = '1/23/4'": "nbtrack has no artifact_uri",
}


# ---- runs MLflow's tests search, and the runs each filter or order_by should give ---------------
@dataclass(frozen=True)
class MlflowRun:
    """One of the runs MLflow's tests build (RunInfo + RunData); times in epoch milliseconds."""

    run_id: str
    status: str  # MLflow's: FINISHED or FAILED
    start_ms: int = 0
    end_ms: int = 1
    user_id: str = "user-id"
    metrics: dict[str, float] = field(default_factory=dict)  # a None metric is left out
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # dataset inputs: (name, digest, context or None)
    inputs: list[tuple[str, str, str | None]] = field(default_factory=list)


# test_correct_filtering
FILTERING_RUNS = [
    MlflowRun("hi", "FAILED", metrics={"key1": 121}, params={"my_param": "A"},
              inputs=[("name1", "digest1", "train")]),
    MlflowRun("hi2", "FINISHED", metrics={"key1": 123}, params={"my_param": "A"},
              tags={"tag1": "C"}, inputs=[("name1", "digest1", None)]),
    MlflowRun("hi3", "FAILED", metrics={"key1": 125}, params={"my_param": "B"},
              tags={"tag1": "D"}, inputs=[("name2", "digest2", None)]),
]  # fmt: skip
# (filter, indices of the matching runs); MLflow's meaning is nbtrack's for all of these.
FILTER_MATCHES = [
    ("", [0, 1, 2]),
    ("attributes.status = 'FAILED'", [0, 2]),
    ("metrics.key1 = 123", [1]),
    ("metrics.key1 != 123", [0, 2]),
    ("metrics.key1 >= 123", [1, 2]),
    ("params.my_param = 'A'", [0, 1]),
    ("tags.tag1 = 'D'", [2]),
    ("tags.tag1 != 'D'", [1]),
    ("params.my_param = 'A' AND attributes.status = 'FAILED'", [0]),
    ("datasets.name = 'name1'", [0, 1]),
    ("datasets.name IN ('name1', 'name2')", [0, 1, 2]),
    ("datasets.digest IN ('digest1', 'digest2')", [0, 1, 2]),
    ("datasets.name = 'name1' AND datasets.digest = 'digest2'", []),
    ("datasets.context = 'train'", [0]),
    ("datasets.name = 'name1' AND datasets.context = 'train'", [0]),
]

# test_filter_runs_by_start_time, _by_end_time and _by_user_id
TIMED_RUNS = [
    MlflowRun("a", "FINISHED", start_ms=0, end_ms=0),
    MlflowRun("b", "FINISHED", start_ms=1, end_ms=1, user_id="user-id2"),
    MlflowRun("c", "FINISHED", start_ms=2, end_ms=2),
]
# MLflow's numbers are milliseconds, nbtrack's seconds: 1 ms is written 0.001 here.
TIME_MATCHES = [
    ("attribute.start_time >= 0", [0, 1, 2]),
    ("attribute.start_time > 0.001", [2]),  # MLflow: > 1
    ("attribute.start_time = 0.002", [2]),  # MLflow: = 2
    ("attribute.end_time >= 0", [0, 1, 2]),
    ("attribute.end_time > 0.001", [2]),  # MLflow: > 1
    ("attribute.end_time = 0.002", [2]),  # MLflow: = 2
    ("attribute.user_id = 'user-id2'", [1]),
]

# test_correct_sorting. The tie-break is the same in both: newest start first, then run id.
SORTING_RUNS = [
    MlflowRun("9", "FAILED", start_ms=0, metrics={"key1": 121}, params={"my_param": "A"}),
    MlflowRun("8", "FINISHED", start_ms=1, metrics={"key1": 123}, params={"my_param": "A"},
              tags={"tag1": "C"}),
    MlflowRun("7", "FAILED", start_ms=1, metrics={"key1": 125}, params={"my_param": "B"},
              tags={"tag1": "D"}),
]  # fmt: skip
# (order_by, indices in the order expected); 'failed' < 'finished' as 'FAILED' < 'FINISHED'.
ORDER_MATCHES: list[tuple[list[str] | None, list[int]]] = [
    (None, [2, 1, 0]),
    ([], [2, 1, 0]),
    (["tags.noSuchTag"], [2, 1, 0]),
    (["attributes.status"], [2, 0, 1]),
    (["attributes.start_time"], [0, 2, 1]),
    (["metrics.key1 asc"], [0, 1, 2]),
    (['metrics."key1"  desc'], [2, 1, 0]),
    (["params.my_param"], [1, 0, 2]),
    (["params.my_param aSc", "attributes.status  ASC"], [0, 1, 2]),
    (["params.my_param", "attributes.status DESC"], [1, 0, 2]),
    (["params.my_param DESC", "attributes.status   DESC"], [2, 1, 0]),
    (["params.`my_param` DESC", "attributes.status DESC"], [2, 1, 0]),
    (["tags.tag1"], [1, 2, 0]),
    (["tags.tag1    DESC"], [2, 1, 0]),
]

# test_order_by_metric_with_nans_infs_nones: run ids are the values ("None": no metric at all).
SPECIAL_VALUES = ["nan", "inf", "-inf", "-1000", "0", "1000", "None"]
SPECIAL_ORDERS = {
    "metrics.x asc": ["-inf", "-1000", "0", "1000", "inf", "nan", "None"],
    "metrics.x desc": ["inf", "1000", "0", "-1000", "-inf", "nan", "None"],
}

# test_space_order_by_search_runs and the spellings of this task's brief
VALID_ORDER_BYS = [
    "metrics.`Mean Square Error`",
    "metrics.`Mean Square Error` ASC",
    "metrics.`Mean Square Error` DESC",
    "metric.acc DESC",
    "attribute.start_time ASC",
    'metrics."acc" DESC',
    "attributes.run_name",
]

# ---- what MLflow refuses ------------------------------------------------------------------------
# test_error_filter, test_error_comparison_clauses, test_bad_quotes, test_invalid_clauses
INVALID_FILTERS = [
    "metric.acc >= 0.94; metrics.rmse < 1",
    "m.acc >= 0.94",
    "acc >= 0.94",
    "p.model >= 'LR'",
    "attri.x != 1",
    "a.x != 1",
    "model >= 'LR'",
    "metrics.A > 0.1 OR params.B = 'LR'",
    "metrics.A > 0.1 NAND params.B = 'LR'",
    "metrics.A > 0.1 AND (params.B = 'LR')",
    "`metrics.A > 0.1",
    "param`.A > 0.1",
    "`dummy.A > 0.1",
    "dummy`.A > 0.1",
    "attribute.start != 1",
    "attribute.experiment_id != 1",
    "attribute.lifecycle_stage = 'ACTIVE'",
    "attribute.name != 1",  # nbtrack has a name, but it is text: 1 must be quoted
    "attribute.time != 1",
    "attribute._status != 'RUNNING'",
    "attribute.status = true",
    "dataset.status = 'true'",
    "dataset.profile = 'num_rows: 10'",
    "metrics.acc IS NULL",
    "attribute.status IS NULL",
    "metric.model = 'LR'",
    "metric.model = '5'",
    "params.acc = 5",
    "tags.acc = 5",
    "metrics.acc != metrics.acc",
    "1.0 > metrics.acc",
    "attribute.status = 1",
    "params.acc = LR",
    "tags.acc = LR",
    "params.acc = `LR`",
    "params.'acc = LR",
    "params.acc = 'LR",
    "params.acc = LR'",
    "params.acc = \"LR'",
    "tags.acc = \"LR'",
    "tags.acc = = 'LR'",
    "attribute.status IS 'RUNNING'",
    "params.acc LR !=",
    "params.acc LR",
    "metric.acc !=",
    "acc != 1.0",
    "foo is null",
    "1=1",
    "1==2",
]
# test_bad_comparators: (prefix.key, comparators MLflow refuses there, value)
BAD_COMPARATORS = [
    ("metrics.abc", ["~", "~="], "1.0"),
    ("params.abc", [">", "<", ">=", "<=", "~"], "'my-param-value'"),
    ("tags.abc", [">", "<", ">=", "<=", "~"], "'my-tag-value'"),
    ("attributes.status", [">", "<", ">=", "<=", "~"], "'my-tag-value'"),
    ("attributes.start_time", ["LIKE", "ILIKE"], "1234"),
    ("datasets.name", [">", "<", ">=", "<=", "~"], "'my-dataset-name'"),
]
INVALID_FILTERS += [f"{c} {op} {v}" for c, ops, v in BAD_COMPARATORS for op in ops]

# Refused by MLflow, accepted here on purpose: the reason for each.
_TYPED = "typed comparison: a param or tag compared with a number compares as a number"
_TEXT_ORDER = "text compares in order too (<, <=, >, >=), like SQL"
ACCEPTED_EXTENSIONS = {
    "metrics.A > 0.1 OR params.B = 'LR'": "'or' is part of nbtrack's grammar",
    "metrics.A > 0.1 AND (params.B = 'LR')": "parentheses group conditions",
    "metrics.acc IS NULL": "IS NULL applies to every column: runs without that metric",
    "attribute.status IS NULL": "IS NULL applies to every column (status is never missing)",
    "params.acc = 5": _TYPED,
    "tags.acc = 5": _TYPED,
    **{f"{c} {op} {v}": _TEXT_ORDER
       for c, ops, v in BAD_COMPARATORS[1:4] for op in ops if op != "~"},
    "params.my_param ": "spaces around an order_by term are ignored",
}  # fmt: skip

# test_invalid_order_by_search_runs
INVALID_ORDER_BYS = [
    "m.acc",
    "acc",
    "attri.x",
    "`metrics.A",
    "`metrics.A`",
    "attribute.start",
    "attribute.experiment_id",
    "metrics.A != 1",
    "params.my_param ",
    "attribute.run_id ACS",
    "attribute.run_id decs",
]
