"""The ``nbtrack`` command: a store from the terminal.

    nbtrack ls [--filter F] [--experiment E] [--limit N] [--json]
    nbtrack show RUN [--json]
    nbtrack export PATH [--filter F] [--experiment E] [--artifacts]
    nbtrack import PATH
    nbtrack import-mlflow URI [--experiment E] [--artifacts] [--no-registry]
    nbtrack import-tensorboard LOGDIR | import-wandb PATH | import-trackio PROJECT [-e E]
    nbtrack import-csv PATH [--run-column C] [--step-column C] [--param-column C]… [-e E]
    nbtrack export-mlflow URI [--filter F] [--experiment E] [--no-artifacts]
    nbtrack sql "SELECT …" [--json]
    nbtrack delete RUN | restore RUN
    nbtrack compact
    nbtrack sync SOURCE DESTINATION [--json]
    nbtrack models ls [--filter F] [--json] | models show NAME [--json]
    nbtrack serve MODEL_URI [--host H] [--port P] [--workers N]
    nbtrack run TARGET [-p KEY=VALUE]… [-e EXPERIMENT | -e ENTRY_POINT] [--name N] [--kernel K]
                [--cwd DIR] [--timeout S] [--output OUT.ipynb] [--env-manager local|venv]
    nbtrack sweep TARGET -p lr=0.001,0.01 -p depth=2:8 [--grid | --random N | --optuna N]
                  [--metric M] [--goal min|max] [-j WORKERS] [--name N] | sweep --resume NAME

``--store PATH`` (or ``$NBTRACK_STORE``) picks the store, a folder or ``s3://bucket/prefix``;
default ``./.nbtrack``. Exit codes:
0 success, 1 an nbtrack error (bad filter, unknown run, store problem), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._version import __version__
from .errors import NbtrackError

LS_COLUMNS = ("run_id", "name", "experiment", "status", "start_time", "duration")
# Free-text columns give up width first; ids, states and times stay whole.
SHRINKABLE = ("name", "experiment")


def _format_cell(column: str, value: Any) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if column == "start_time":
        return value.strftime("%Y-%m-%d %H:%M")
    if column == "duration":
        return f"{value:.2f}s" if value < 10 else f"{value:.0f}s"
    return str(value)


def format_table(rows: list[dict[str, object]], columns: Sequence[str], width: int) -> str:
    """A plain text table; free-text columns are cut to fit ``width`` characters."""
    cells = [[_format_cell(c, row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    shrinkable = [i for i, c in enumerate(columns) if c in SHRINKABLE]
    while sum(widths) + 2 * (len(widths) - 1) > width and shrinkable:
        widest = max(shrinkable, key=lambda i: widths[i])
        if widths[widest] <= 8:
            break
        widths[widest] -= 1

    def line(values: Sequence[str]) -> str:
        out = [v if len(v) <= w else v[: w - 1] + "…" for v, w in zip(values, widths, strict=True)]
        return "  ".join(v.ljust(w) for v, w in zip(out, widths, strict=True)).rstrip()

    return "\n".join([line(columns), *(line(r) for r in cells)])


def _width() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def _json(value: Any) -> str:
    return json.dumps(value, default=str, indent=None)


# ---- commands ---------------------------------------------------------------------------------
def _ls(args: argparse.Namespace) -> int:
    if args.json:  # every column, as search() gives it
        import nbtrack

        frame = nbtrack.search(args.filter, experiment=args.experiment, limit=args.limit)
        print(frame.to_json(orient="records", date_format="iso"))
        return 0
    from .query.search import RunQuery  # (a table of base columns needs no pandas)

    rows = RunQuery(args.filter, args.experiment).records(args.limit)
    if not rows:
        print("no runs", file=sys.stderr)
    else:
        print(format_table(rows, LS_COLUMNS, _width()))
    return 0


def _show(args: argparse.Namespace) -> int:
    import dataclasses

    import nbtrack

    record = nbtrack.get_run(args.run)
    if args.json:
        print(_json(dataclasses.asdict(record)))
        return 0
    lines = [
        f"{record.name}  ({record.id})",
        f"  experiment  {record.experiment}",
        f"  status      {record.status}",
        f"  started     {record.start_time:%Y-%m-%d %H:%M:%S %Z}",
        f"  duration    {_format_cell('duration', record.duration)}",
    ]
    if record.parent_id:
        lines.append(f"  parent      {record.parent_id}")
    for title, values in (("params", record.params), ("metrics", record.metrics),
                          ("tags", record.tags)):  # fmt: skip
        if values:
            lines.append(f"{title}:")
            lines += [f"  {k} = {v!r}" for k, v in values.items()]
    if record.artifacts:
        lines.append("artifacts:")
        lines += [f"  {a['path']}  ({a['size']} bytes)" for a in record.artifacts]
    if record.error:
        lines += ["error:", *("  " + ln for ln in record.error.rstrip().splitlines()[-5:])]
    print("\n".join(lines))
    return 0


def _export(args: argparse.Namespace) -> int:
    import nbtrack

    count = nbtrack.export(args.path, args.filter, args.experiment, artifacts=args.artifacts)
    print(f"exported {count} runs to {args.path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    import nbtrack

    print(f"imported {nbtrack.import_runs(args.path)} runs from {args.path}")
    return 0


def _import_mlflow(args: argparse.Namespace) -> int:
    import nbtrack
    from nbtrack.exchange.mlflow_registry import import_mlflow_registry

    runs = nbtrack.import_mlflow(
        args.uri, experiment=args.experiment, artifacts=args.artifacts, registry=False
    )
    if args.no_registry:
        print(f"imported {runs} runs from {args.uri}")
        return 0
    versions = import_mlflow_registry(args.uri, experiment=args.experiment)
    print(f"imported {runs} runs and {versions} model versions from {args.uri}")
    return 0


def _import_from(name: str) -> Callable[[argparse.Namespace], int]:
    """The command running importer ``nbtrack.<name>(args.source, experiment=args.experiment)``."""

    def command(args: argparse.Namespace) -> int:
        import nbtrack

        count = getattr(nbtrack, name)(args.source, experiment=args.experiment)
        print(f"imported {count} runs from {args.source}")
        return 0

    return command


def _import_csv(args: argparse.Namespace) -> int:
    import nbtrack

    count = nbtrack.import_csv(
        args.path, run_column=args.run_column, step_column=args.step_column,
        experiment=args.experiment, time_column=args.time_column,
        param_columns=args.param_column or (), key_column=args.key_column,
    )  # fmt: skip
    print(f"imported {count} runs from {args.path}")
    return 0


def _export_mlflow(args: argparse.Namespace) -> int:
    import nbtrack

    count = nbtrack.export_mlflow(
        args.uri, args.filter, args.experiment, artifacts=not args.no_artifacts
    )
    print(f"exported {count} runs to {args.uri}")
    return 0


def _sql(args: argparse.Namespace) -> int:
    import duckdb

    import nbtrack

    try:
        relation = nbtrack.sql(args.query)
        rows = relation.fetchall()
    except duckdb.Error as err:
        raise NbtrackError(f"the SQL failed: {err}") from err
    columns = list(relation.columns)
    if args.json:
        print(_json([dict(zip(columns, row, strict=True)) for row in rows]))
    else:
        print(format_table([dict(zip(columns, r, strict=True)) for r in rows], columns, 10**6))
    return 0


def _mark(kind: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        import nbtrack

        record = nbtrack.get_run(args.run)
        (nbtrack.delete_run if kind == "delete" else nbtrack.restore_run)(record.id)
        nbtrack.flush()
        print(f"{kind}d run {record.name!r} ({record.id})")
        return 0

    return command


def _compact(args: argparse.Namespace) -> int:
    import nbtrack

    merged = nbtrack.compact()
    print(_json(merged) if args.json else f"merged segments: {merged}")
    return 0


def _sync(args: argparse.Namespace) -> int:
    import nbtrack

    copied = nbtrack.sync(args.source, args.destination)
    print(_json(copied) if args.json else
          f"copied {copied['segments']} segments and {copied['files']} files "
          f"from {args.source} to {args.destination}")  # fmt: skip
    return 0


def _models(args: argparse.Namespace) -> int:
    import dataclasses

    from . import registry

    if args.action == "show":
        model = registry.get_registered_model(args.name)
        versions = registry.search_model_versions(
            f"name = '{args.name.replace(chr(39), chr(39) * 2)}'", order_by=["version DESC"]
        )
        if args.json:
            print(_json({**dataclasses.asdict(model),
                         "versions": [dataclasses.asdict(v) for v in versions]}))  # fmt: skip
            return 0
        print(f"{model.name}" + (f"  {model.description}" if model.description else ""))
        for key, value in model.tags.items():
            print(f"  tag {key} = {value}")
        rows = [{"version": v.version, "stage": v.stage, "aliases": ", ".join(v.aliases) or "-",
                 "run_id": v.run_id or "-", "created": f"{v.created_at:%Y-%m-%d %H:%M}",
                 "flavors": ", ".join(v.flavors)} for v in versions]  # fmt: skip
        if rows:
            print(format_table(rows, list(rows[0]), _width()))
        return 0
    models = registry.search_registered_models(args.filter)
    if args.json:
        print(_json([dataclasses.asdict(m) for m in models]))
        return 0
    if not models:
        print("no registered models", file=sys.stderr)
        return 0
    rows = [{"name": m.name,
             "latest": max((v.version for v in m.latest_versions), default="-"),
             "aliases": ", ".join(f"@{a}={v}" for a, v in sorted(m.aliases.items())) or "-",
             "updated": f"{m.updated_at:%Y-%m-%d %H:%M}",
             "description": m.description or ""} for m in models]  # fmt: skip
    print(format_table(rows, list(rows[0]), _width()))
    return 0


def _params(items: Sequence[str] | None) -> dict[str, Any]:
    """``["lr=0.01", "layers=[64,64]"]`` as typed params."""
    from .values import parse_literal

    params = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"parameters are KEY=VALUE, e.g. -p lr=0.01; got {item!r}")
        params[key.strip()] = parse_literal(value)
    return params


def _launching(args: argparse.Namespace) -> tuple[Any, str | None, str | None]:
    """The project Options, entry point and experiment of ``run`` and ``sweep``: ``-e`` is the
    entry point for an MLproject folder (as in ``mlflow run``), else the experiment."""
    from pathlib import Path

    from .projects import Options

    folder = bool(args.target) and Path(args.target).is_dir()
    entry_point = args.entry_point or (args.e if folder else None)
    experiment = args.experiment or (None if folder else args.e)
    options = Options(
        kernel=args.kernel, cwd=Path(args.cwd) if args.cwd else None, timeout=args.timeout,
        output=Path(args.output) if getattr(args, "output", None) else None,
        env_manager=args.env_manager,
    )  # fmt: skip
    return options, entry_point, experiment


def _run(args: argparse.Namespace) -> int:
    from .errors import RunFailedError
    from .projects import Target, launch

    options, entry_point, experiment = _launching(args)
    target = Target.open(args.target, entry_point)
    try:
        run = launch(
            target, _params(args.param), experiment=experiment, name=args.name, options=options
        )
    except RunFailedError as err:
        print(f"nbtrack: {err}", file=sys.stderr)
        return 130 if err.run.status == "interrupted" else 1  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        return 130
    print(f"run {run.name!r} ({run.id}) {run.status}", file=sys.stderr)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .sweeps import TrialResult, sweep
    from .sweeps.space import Space

    if not args.target and not args.resume:
        raise ValueError("give a TARGET to sweep, or --resume NAME")
    options, entry_point, experiment = _launching(args)
    method, n_trials = "grid", args.grid
    if args.random is not None:
        method, n_trials = "random", args.random
    elif args.optuna is not None:
        method, n_trials = "optuna", args.optuna

    def report(trial: TrialResult) -> None:
        value = "" if trial.value is None else f" {args.metric or 'value'}={trial.value:.6g}"
        params = ", ".join(f"{k}={v!r}" for k, v in trial.params.items())
        print(f"trial {trial.number} {trial.state}{value}  ({params})", file=sys.stderr)

    try:
        result = sweep(
            args.target, Space.from_cli(args.param or []) if not args.resume else None,
            method=method, n_trials=n_trials, metric=args.metric, goal=args.goal,
            n_jobs=args.jobs, name=args.resume or args.name, experiment=experiment,
            seed=args.seed, resume=bool(args.resume), prune=not args.no_prune, options=options,
            entry_point=entry_point, on_trial=report,
        )  # fmt: skip
    except KeyboardInterrupt:
        print("nbtrack: sweep interrupted; continue it with --resume NAME", file=sys.stderr)
        return 130
    print(result)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .serving import main as serve_main

    return serve_main(args.model_uri, host=args.host, port=args.port, workers=args.workers)


# import-<name> SOURCE: nbtrack.import_<name>(SOURCE, experiment=…)
IMPORTERS = (
    ("tensorboard", "logdir", "a TensorBoard log folder"),
    ("wandb", "path", "W&B run folders (a wandb/ folder, or one run's)"),
    ("trackio", "project", "a trackio project (its name, or its .db file)"),
)

# Commands that read a store refuse one that does not exist (rather than show it empty).
_NEEDS_STORE = {
    "ls", "show", "export", "export-mlflow", "sql", "delete", "restore", "compact", "models",
}  # fmt: skip


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nbtrack", description="Experiment runs in a local nbtrack store.",
        epilog="Filters: params.lr < 0.01 and metrics.acc >= 0.9 and tags.model = 'rf'",
    )  # fmt: skip
    p.add_argument("--version", action="version", version=f"nbtrack {__version__}")
    p.add_argument(
        "--store", help="store folder or s3://bucket/prefix (default: $NBTRACK_STORE or ./.nbtrack)"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str):
        cmd = sub.add_parser(name, help=help, description=help)
        cmd.set_defaults(func=func)
        return cmd

    def selection(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--filter", "-f", help='filter expression, e.g. "metrics.acc > 0.9"')
        cmd.add_argument("--experiment", "-e", help="experiment name or glob")

    ls = command("ls", _ls, "list runs, newest first")
    selection(ls)
    ls.add_argument("--limit", "-n", type=int, default=20, help="at most N runs (default 20)")
    ls.add_argument("--json", action="store_true", help="JSON records instead of a table")
    show = command("show", _show, "everything recorded about one run")
    show.add_argument("run", help="run id (or a unique prefix of at least 4 characters)")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    export = command("export", _export, "write runs to PATH.parquet (one wide file) or PATH/")
    export.add_argument("path")
    selection(export)
    export.add_argument("--artifacts", action="store_true", help="copy artifacts into a bundle")
    imp = command("import", _import, "import an exported bundle folder")
    imp.add_argument("path")
    mlflow = command(
        "import-mlflow", _import_mlflow, "import runs and registered models from an MLflow store"
    )
    mlflow.add_argument("uri", help="e.g. sqlite:///mlflow.db or ./mlruns")
    mlflow.add_argument("--experiment", "-e", help="only this MLflow experiment")
    mlflow.add_argument("--artifacts", action="store_true", help="copy artifacts too")
    mlflow.add_argument("--no-registry", action="store_true", help="runs only, no models")
    for name, source, what in IMPORTERS:
        cmd = command(f"import-{name}", _import_from(f"import_{name}"), f"import runs from {what}")
        cmd.add_argument("source", metavar=source.upper(), help=what)
        cmd.add_argument("--experiment", "-e", help="put the runs in this experiment")
    csv = command("import-csv", _import_csv, "import metrics from a CSV file (wide or long)")
    csv.add_argument("path")
    csv.add_argument("--run-column", help="the column naming the run (default: one run)")
    csv.add_argument("--step-column", help="the column of steps (default: row order)")
    csv.add_argument("--time-column", help="ISO times or epoch seconds")
    csv.add_argument("--param-column", action="append", help="a column holding a param (repeat)")
    csv.add_argument("--key-column", help="long layout: the column naming the metric")
    csv.add_argument("--experiment", "-e", help="put the runs in this experiment")
    to_mlflow = command("export-mlflow", _export_mlflow, "copy runs into an MLflow store or server")
    to_mlflow.add_argument("uri", help="e.g. http://127.0.0.1:5000 or sqlite:///mlflow.db")
    selection(to_mlflow)
    to_mlflow.add_argument("--no-artifacts", action="store_true", help="leave artifacts out")
    sql = command("sql", _sql, "run SQL over the views runs, params, metrics, tags, …")
    sql.add_argument("query")
    sql.add_argument("--json", action="store_true", help="JSON records instead of a table")
    for kind in ("delete", "restore"):
        cmd = command(kind, _mark(kind), f"{kind} a run (deleting only hides it)")
        cmd.add_argument("run")
    compact = command("compact", _compact, "merge small segments (safe while others write)")
    compact.add_argument("--json", action="store_true", help="print counts as JSON")
    copy = command("sync", _sync, "copy what DESTINATION lacks of SOURCE (folders or s3:// URLs)")
    copy.add_argument("source", help="the store to copy from, e.g. ./.nbtrack")
    copy.add_argument("destination", help="the store to copy into, e.g. s3://bucket/runs")
    copy.add_argument("--json", action="store_true", help="print counts as JSON")
    models = command("models", _models, "registered models and their versions")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    models_ls = actions.add_parser("ls", help="list registered models")
    models_ls.add_argument("--filter", "-f", help="e.g. \"name LIKE 'wine%%'\"")
    models_show = actions.add_parser("show", help="one registered model and its versions")
    models_show.add_argument("name")
    for cmd in (models_ls, models_show):
        cmd.add_argument("--json", action="store_true", help="JSON instead of text")
    serve = command("serve", _serve, "serve a model over HTTP (MLflow's scoring protocol)")
    serve.add_argument(
        "model_uri", help="models:/NAME@ALIAS, models:/NAME/VERSION, runs:/ID/PATH or a folder"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", "-p", type=int, default=5000, help="port (default 5000; 0: any free)"
    )
    serve.add_argument("--workers", "-w", type=int, default=1, help="worker processes (default 1)")
    run = command("run", _run, "run a notebook, a script or an MLproject folder as a run")
    run.add_argument("target", help="a notebook (.ipynb), a script (.py) or an MLproject folder")
    run.add_argument(
        "--param", "-p", "-P", action="append", metavar="KEY=VALUE",
        help="a parameter, typed like Python (0.01, 3, [64,64], rf); repeat for more",
    )  # fmt: skip
    launching(run)
    run.add_argument("--output", help="notebooks: also save the executed notebook here")
    sweep = command("sweep", _sweep, "run a notebook, script or MLproject over a space of params")
    sweep.add_argument("target", nargs="?", help="a notebook, a script or an MLproject folder")
    sweep.add_argument(
        "--param", "-p", "-P", action="append", metavar="KEY=SPACE",
        help="a param's values: a,b,c  2:8  uniform(lo,hi)  loguniform(lo,hi)  choice(a,b)",
    )  # fmt: skip
    methods = sweep.add_mutually_exclusive_group()
    methods.add_argument("--grid", nargs="?", type=int, const=None, metavar="N",
                         help="every combination (the default; N: the first N)")  # fmt: skip
    methods.add_argument("--random", type=int, metavar="N", help="N random draws")
    methods.add_argument("--optuna", type=int, metavar="N", help="N trials of Optuna's TPE")
    sweep.add_argument("--metric", "-m", help="the metric that says which trial is best")
    sweep.add_argument("--goal", choices=("min", "max"), default="min", help="default min")
    sweep.add_argument("--jobs", "-j", type=int, default=1, help="trials run at once")
    sweep.add_argument("--resume", metavar="NAME", help="continue the sweep NAME")
    sweep.add_argument("--seed", type=int, help="seed of random draws and Optuna's sampler")
    sweep.add_argument("--no-prune", action="store_true", help="optuna: never stop trials early")
    launching(sweep)
    return p


def launching(cmd: argparse.ArgumentParser) -> None:
    """The options of ``run`` and ``sweep`` saying how a target runs."""
    cmd.add_argument(
        "-e", dest="e", metavar="NAME",
        help="the experiment; for an MLproject folder, the entry point (as in mlflow run)",
    )  # fmt: skip
    cmd.add_argument("--experiment", help="the experiment of the run")
    cmd.add_argument("--entry-point", help="the MLproject entry point (default main)")
    cmd.add_argument("--name", help="the run's name")
    cmd.add_argument("--kernel", help="notebooks: the kernel to use (default: the notebook's)")
    cmd.add_argument("--cwd", help="the folder to run in (default: the target's)")
    cmd.add_argument(
        "--timeout", type=float,
        help="seconds a notebook cell (or a script, a command) may take before it is stopped",
    )  # fmt: skip
    cmd.add_argument(
        "--env-manager", choices=("local", "venv"), default="local",
        help="MLproject folders: this environment, or a venv built from the project's files",
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .config import set_store
    from .store import get_store

    try:
        if args.store:
            set_store(args.store)
        layout = get_store().layout
        if args.command in _NEEDS_STORE and not layout.exists():
            print(
                f"nbtrack: no store at {layout.name}; pass --store PATH or set $NBTRACK_STORE",
                file=sys.stderr,
            )
            return 1
        return args.func(args)
    except (NbtrackError, ValueError, FileNotFoundError) as err:
        print(f"nbtrack: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
