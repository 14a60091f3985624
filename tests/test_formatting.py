"""The static HTML's formats (nbtrack/widgets/formatting.py) against the live table's
(js/src/format.ts): the TypeScript runs in node on the same inputs, and both must agree."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

import nbtrack
from nbtrack.widgets import RunTable, formatting

JS = ROOT / "js"
ESBUILD = JS / "node_modules" / ".bin" / "esbuild"
# Reads [function, ...arguments] calls as JSON on stdin; numbers come as {"number": text} so that
# NaN, infinities and every double cross over exactly.
RUNNER = """\
import { readFileSync } from "node:fs";
import * as format from "./format.mjs";

const arg = (v) => (v !== null && typeof v === "object" ? Number(v.number) : v);
const calls = JSON.parse(readFileSync(0, "utf8"));
const results = calls.map(([name, ...args]) => {
  if (name !== "formatCell") return format[name](...args.map(arg));
  const [value, column, group] = args;
  const cell = format.formatCell(arg(value), column ? { name: column, group } : undefined);
  return [cell.text, cell.kind, cell.title ?? null];
});
process.stdout.write(JSON.stringify(results));
"""
PYTHON = {
    "formatMetric": formatting.format_metric,
    "formatNumber": formatting.format_number,
    "formatDuration": formatting.format_duration,
    "formatTimestamp": formatting.format_timestamp,
}
ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe")


def numbers(seed: int) -> list[float]:
    """Edge cases (halves, bounds of each notation, extremes) and random values of every size."""
    rng = random.Random(seed)
    edges = [0.0, -0.0, 1.0625, -1.0625, 0.03125, 9.9995, 999.95, 999.99995, 1000.5, -1000.5,
             999999.5, 0.00099995, 0.001, 1e-6, 1e-7, 1e21, 1e22, 2.0**53 + 2, 5e-324,
             1.7976931348623157e308, math.nan, math.inf, -math.inf]  # fmt: skip
    spread = [rng.uniform(-1, 1) * 10 ** rng.randint(-12, 24) for _ in range(300)]
    decimals = [round(rng.uniform(0, 2000), rng.randint(0, 6)) for _ in range(100)]
    return edges + spread + decimals


def durations(seed: int) -> list[float]:
    rng = random.Random(seed)
    edges = [0.35, 1.23, 59.94, 59.96, 184, 3599.6, 7510, 273600, 0, 0.995, 0.9999, 0.05,
             1e-9, 59.95, 59.949999, 60, 3599.4, 3599.5, 86399.9, 8.64e10, -184, -0.5, 1e21,
             math.nan, -math.inf]  # fmt: skip
    return edges + [rng.uniform(0, 10 ** rng.randint(0, 7)) for _ in range(200)]


TIMESTAMPS = [
    "2024-03-05T07:08:09.123456+00:00", "2024-03-05T23:45:00+00:00", "2024-03-05T07:08:09Z",
    "2024-03-10T06:59:59+00:00", "2024-03-10T07:00:00+00:00", "2024-11-03T05:30:00+00:00",
    "2024-04-06T15:45:00+00:00", "1999-12-31T23:59:59.999999-08:00", "2024-03-05T07:08:09",
    "2024-03-05", "2024-13-01T00:00:00+00:00", "yesterday", "",
]  # fmt: skip
CELLS: list[tuple[Any, str, str | None]] = [
    (None, "", None), (True, "params.flag", "params"), (False, "params.flag", "params"),
    (0.98765, "metrics.acc", "metrics"), (0.0003, "params.lr", "params"),
    (64, "params.bs", "params"), (184, "duration", "attributes"), (0.35, "duration", "attributes"),
    (12, "metrics.epochs", "metrics"), (1234567.891, "metrics.n", "metrics"),
    (1e-7, "params.eps", "params"), (3.5, "", None),
    ("2024-03-05T07:08:09+00:00", "start_time", "attributes"),
    ("2024-03-05", "end_time", "attributes"), ("adam", "params.optimizer", "params"),
    ("x" * 40, "tags.note", "tags"), ("x" * 41, "tags.note", "tags"),
    ("😀" * 20, "tags.mood", "tags"), ("😀" * 21, "tags.mood", "tags"),
    ("inf", "metrics.loss", "metrics"), ("finished", "status", "attributes"),
]  # fmt: skip


def encoded(value: Any) -> Any:
    """``value`` for the runner: a float as its exact text (``Infinity``, ``NaN`` included)."""
    return {"number": json.dumps(value)} if isinstance(value, float) else value


@pytest.fixture(scope="module")
def format_js(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding js/src/format.ts as an ES module, and the runner beside it."""
    assert shutil.which("node") and ESBUILD.exists(), (
        "needs node and the front end's dependencies (npm install in js/)"
    )
    folder = tmp_path_factory.mktemp("format-js")
    subprocess.run([str(ESBUILD), "src/format.ts", "--bundle", "--format=esm",
                    f"--outfile={folder / 'format.mjs'}", "--log-level=warning"],
                   cwd=JS, check=True, timeout=120)  # fmt: skip
    (folder / "runner.mjs").write_text(RUNNER)
    return folder


def in_node(folder: Path, calls: list[list[Any]], zone: str = "UTC") -> list[Any]:
    done = subprocess.run(
        ["node", "runner.mjs"], cwd=folder, input=json.dumps(calls), capture_output=True,
        text=True, timeout=120, env={**os.environ, "TZ": zone}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def local_zone() -> Iterator[None]:
    """Lets a test set TZ (and call time.tzset); the machine's zone comes back afterwards."""
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def disagreements(calls: list[list[Any]], theirs: list[Any], ours: list[Any]) -> list[str]:
    return [f"{call}: TypeScript {t!r}, Python {o!r}"
            for call, t, o in zip(calls, theirs, ours, strict=True) if t != o]  # fmt: skip


@pytest.mark.parametrize(
    ("function", "values"),
    [("formatMetric", numbers(1)), ("formatNumber", numbers(2)), ("formatDuration", durations(3))],
)
def test_numbers_read_the_same(format_js: Path, function: str, values: list[float]) -> None:
    calls = [[function, encoded(float(v))] for v in values]
    ours = [PYTHON[function](float(v)) for v in values]
    assert disagreements(calls, in_node(format_js, calls), ours) == []


@pytest.mark.parametrize("zone", ZONES)
def test_times_read_the_same_in_local_time(format_js: Path, zone: str, local_zone: None) -> None:
    os.environ["TZ"] = zone
    time.tzset()
    calls = [["formatTimestamp", text] for text in TIMESTAMPS]
    ours = [formatting.format_timestamp(text) for text in TIMESTAMPS]
    assert disagreements(calls, in_node(format_js, calls, zone), ours) == []


def test_cells_read_the_same(format_js: Path, local_zone: None) -> None:
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    calls = [["formatCell", encoded(value), column, group] for value, column, group in CELLS]
    ours = [list(vars(formatting.format_cell(*cell)).values()) for cell in CELLS]
    assert disagreements(calls, in_node(format_js, calls, "Asia/Kolkata"), ours) == []


def test_a_saved_table_reads_as_the_live_one(tmp_store: Path) -> None:
    with nbtrack.run("quick", params={"lr": 0.0003}) as run:
        run.log(acc=0.98765)
    shown = ["name", "status", "start_time", "params.lr", "metrics.acc", "metrics.f1"]
    html = RunTable(columns=shown, live=False).to_html()
    assert "<td>quick</td><td>finished</td><td title=" in html  # the time's full value
    assert '<td style="text-align: right">0.0003</td>' in html
    assert '<td title="0.98765" style="text-align: right">0.9877</td>' in html
    assert "<td>–</td>" in html and html.endswith("<p>1 of 1 runs</p>")
