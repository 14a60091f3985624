"""What a sweep was asked to do, kept in the store so that it can be resumed by name.

Each sweep has a folder ``sweeps/<sweep run id>/`` in the store holding ``sweep.json`` (this
record) and, under ``--optuna``, ``optuna.journal`` (the study).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SweepError


@dataclass
class SweepSpec:
    """One sweep's settings; ``target`` is a path, or ``python:module.function`` for a function."""

    name: str
    run_id: str
    target: str
    space: dict[str, Any]
    method: str
    n_trials: int | None
    metric: str | None
    goal: str
    seed: int
    options: dict[str, Any] = field(default_factory=dict)

    def folder(self, store_root: Path) -> Path:
        return store_root / "sweeps" / self.run_id

    def save(self, store_root: Path) -> None:
        folder = self.folder(store_root)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "sweep.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, folder / "sweep.json")

    @classmethod
    def find(cls, store_root: Path, name: str) -> SweepSpec | None:
        """The sweep named ``name`` in the store (the latest when several), or None."""
        found = []
        for path in (store_root / "sweeps").glob("*/sweep.json"):
            data = json.loads(path.read_text())
            if data.get("name") == name:
                found.append((path.stat().st_mtime, data))
        return cls(**max(found, key=lambda f: f[0])[1]) if found else None

    @classmethod
    def load(cls, store_root: Path, name: str) -> SweepSpec:
        spec = cls.find(store_root, name)
        if spec is None:
            names = sorted(json.loads(p.read_text()).get("name", "?")
                           for p in (store_root / "sweeps").glob("*/sweep.json"))  # fmt: skip
            raise SweepError(
                f"no sweep named {name!r} in the store at {store_root} to resume; sweeps there: "
                f"{', '.join(names) or 'none'}"
            )
        return spec
