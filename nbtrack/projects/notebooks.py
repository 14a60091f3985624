"""Executing a notebook as a run: parameters injected the papermill way, cells run by nbclient.

A cell tagged ``parameters`` holds the notebook's defaults; the given values go in a new cell
after it, tagged ``injected-parameters`` (replacing one a previous execution left), so the
notebook reads them as plain variables. Without a ``parameters`` cell they go first.

>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("lr = 0.1")])
>>> nb.cells[0].metadata["tags"] = ["parameters"]
>>> print(inject_parameters(nb, {"lr": 0.01, "layers": [64, 64]}).cells[1].source)
# Parameters
lr = 0.01
layers = [64, 64]
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ProjectError
from .processes import interrupt_pid, interruptible
from .progress import Progress

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def read_notebook(path: Path) -> Any:
    """The notebook at ``path`` (nbformat 4); a missing or malformed file is a ProjectError."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise ProjectError(f"no notebook at {path}; check the path") from None
    except Exception as err:
        raise ProjectError(f"{path} is not a readable notebook: {err}") from err


def inject_parameters(nb: Any, params: Mapping[str, Any]) -> Any:
    """``nb`` with ``params`` assigned in an ``injected-parameters`` cell (nothing without
    params)."""
    import nbformat

    cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    if params:
        lines = ["# Parameters", *(f"{key} = {_literal(value)}" for key, value in params.items())]
        cell = nbformat.v4.new_code_cell("\n".join(lines))
        cell.metadata["tags"] = [INJECTED_TAG]
        tagged = [i for i, c in enumerate(cells) if PARAMETERS_TAG in c.metadata.get("tags", [])]
        cells.insert(tagged[0] + 1 if tagged else 0, cell)
    nb.cells = cells
    return nb


def _literal(value: Any) -> str:
    """Python source for ``value`` (NaN and infinities included)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"float({str(value)!r})"
    return repr(value)


def execute(
    nb: Any,
    *,
    env: Mapping[str, str],
    cwd: Path,
    kernel: str | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> tuple[str, str | None]:
    """Run every cell of ``nb`` in place (outputs kept, also of a failing cell) in a new
    kernel with environment ``env``; returns the run's (status, detail)."""
    from nbclient import NotebookClient

    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    where = {index: k for k, index in enumerate(code, 1)}
    reached = [0]

    def started(cell: Any, cell_index: int) -> None:
        reached[0] = cell_index
        if progress is not None:
            progress.update(where.get(cell_index, 0), cell.source)

    with contextlib.ExitStack() as running:

        def kernel_started(notebook: Any) -> None:  # the sweep's Ctrl-C reaches the kernel
            pid = getattr(client.km.provisioner, "pid", None) if client.km else None
            running.enter_context(interruptible(interrupt_pid(pid)))

        name = kernel or nb.metadata.get("kernelspec", {}).get("name") or "python3"
        client = NotebookClient(
            nb, timeout=timeout, kernel_name=name, resources={"metadata": {"path": str(cwd)}},
            on_cell_execute=started, on_notebook_start=kernel_started,
        )  # fmt: skip
        return _outcome(client, env, where, reached, len(code), timeout)


def _outcome(
    client: Any, env: Mapping[str, str], where: dict[int, int], reached: list[int], cells: int,
    timeout: float | None,
) -> tuple[str, str | None]:  # fmt: skip
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        client.execute(env=dict(env))
    except CellExecutionError as err:
        cell = where.get(reached[0], "?")
        if err.ename == "KeyboardInterrupt":
            return "interrupted", f"KeyboardInterrupt in cell {cell} of {cells}"
        return "failed", f"cell {cell} of {cells} raised {err.ename}: {err.evalue}\n" + (
            _ANSI.sub("", err.traceback or "")
        )
    except CellTimeoutError:
        cell = where.get(reached[0], "?")
        return "failed", f"cell {cell} of {cells} ran longer than the {timeout} s timeout"
    except DeadKernelError as err:
        return "failed", f"the kernel died at cell {where.get(reached[0], '?')}: {err}"
    return "finished", None


def write_notebook(nb: Any, path: Path) -> None:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
