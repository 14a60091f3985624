"""The Python examples in README.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import ROOT, run_python


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_python_examples_run(tmp_store: Path, tmp_path: Path) -> None:
    blocks = python_blocks()
    assert blocks, "README.md has no python examples"
    outputs = [
        run_python(block, tmp_store, tmp_path, name=f"readme_{i}.py")  # fails on any error
        for i, block in enumerate(blocks)
    ]
    assert "rf-depth-8" in outputs[0]  # the quickstart prints its best run
