"""Printing a benchmark's figures beside their targets, and saving them as JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def show(
    result: dict[str, float], targets: dict[str, tuple[str, float]], json_path: str | None
) -> None:
    """Print ``result`` one figure a line, with its target where it has one; also write it to
    ``json_path`` when given."""
    for key, value in result.items():
        target = targets.get(key)
        mark = "" if target is None else f"  (target {target[0]} {target[1]:g})"
        print(f"{key:24} {value:10.2f}{mark}")
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=1))


def side_by_side_main(
    doc: str,
    figures: Callable[[bool], dict[str, float]],
    targets: dict[str, tuple[str, float]],
    children: dict[str, Callable[[str, int], Any]],
    repeats: int,
) -> None:
    """The command line of a benchmark whose sides (``children``: name to a function of a
    store folder and a repeat count) each run in a child process of this same script: prints
    ``figures`` beside ``targets``, or, called as a child, that side's result as JSON."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", choices=children, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=repeats, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(children[args.child](args.folder, args.repeats)))
        return
    show(figures(args.quick), targets, args.json)
