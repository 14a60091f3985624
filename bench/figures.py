"""Printing a benchmark's figures beside their targets, and saving them as JSON."""

from __future__ import annotations

import json
from pathlib import Path


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
