"""The ``nbtrack`` command: look at a store from the terminal.

    nbtrack ls [--experiment E] [--limit N] [--json]
    nbtrack compact
    nbtrack --version

``--store PATH`` (or ``$NBTRACK_STORE``) picks the store; default ``./.nbtrack``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence

from ._version import __version__
from .errors import NbtrackError

LS_COLUMNS = ("run_id", "name", "experiment", "status", "start_time", "duration")
# Free-text columns give up width first; ids, states and times stay whole.
SHRINKABLE = ("name", "experiment")


def _format_cell(column: str, value: object) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if column == "start_time":
        return value.strftime("%Y-%m-%d %H:%M")
    if column == "duration":
        return f"{value:.2f}s" if value < 10 else f"{value:.0f}s"
    return str(value)


def format_table(rows: list[dict[str, object]], columns: Sequence[str], width: int) -> str:
    """A plain text table; the widest columns are cut to fit ``width`` characters."""
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


def _ls(args: argparse.Namespace) -> int:
    import nbtrack

    frame = nbtrack.search(experiment=args.experiment, limit=args.limit)
    if args.json:
        print(frame.to_json(orient="records", date_format="iso"))
        return 0
    if frame.empty:
        print("no runs", file=sys.stderr)
        return 0
    rows = frame[list(LS_COLUMNS)].to_dict("records")
    print(format_table(rows, LS_COLUMNS, shutil.get_terminal_size((80, 24)).columns))
    return 0


def _compact(args: argparse.Namespace) -> int:
    import nbtrack

    merged = nbtrack.compact()
    print(json.dumps(merged) if args.json else f"merged segments: {merged}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nbtrack", description="Experiment runs in a local store.")
    p.add_argument("--version", action="version", version=f"nbtrack {__version__}")
    p.add_argument("--store", help="store folder (default: $NBTRACK_STORE or ./.nbtrack)")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("ls", help="list runs, newest first")
    ls.add_argument("--experiment", "-e", help="only runs of this experiment")
    ls.add_argument("--limit", "-n", type=int, default=20, help="at most N runs (default 20)")
    ls.add_argument("--json", action="store_true", help="JSON records instead of a table")
    ls.set_defaults(func=_ls)
    compact = sub.add_parser("compact", help="merge small segments (safe while others write)")
    compact.add_argument("--json", action="store_true", help="print counts as JSON")
    compact.set_defaults(func=_compact)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.store:
        from .config import set_store

        set_store(args.store)
    try:
        return args.func(args)
    except NbtrackError as err:
        print(f"nbtrack: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
