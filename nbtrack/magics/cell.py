"""A tracked cell's life: the run starts on the cell's first line and ends after the cell.

``%%track`` cells are rewritten before IPython runs them: the magic line becomes one Python
call that starts the run, on the same line (so line numbers in tracebacks stay those of the
cell), and the body is left exactly as the user wrote it. The body therefore runs as a plain
cell: its last expression displays, ``await`` works, and an exception is reported by IPython
exactly as without the magic. IPython's ``post_run_cell`` event then ends the run with the
cell's outcome.
"""

from __future__ import annotations

import hashlib
import linecache
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import NbtrackWarning, StoreError
from ..exits import outcome
from ..tracking import Run, start_run
from .live import LivePlot
from .notebook import notebook_path
from .params import literal_params, named_params

_MAGIC_LINE = re.compile(r"%%track(?:[ \t]+(?P<args>.*))?$")


@dataclass
class TrackedCell:
    """The run of one executing ``%%track`` cell."""

    run: Run
    info: Any  # IPython's ExecutionInfo of the cell, to match its post_run_cell
    param_names: list[str] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    live: LivePlot | None = None


@dataclass
class _State:
    infos: list[Any] = field(default_factory=list)  # cells executing now, innermost last
    current: TrackedCell | None = None


state = _State()


def rewrite(lines: list[str]) -> list[str]:
    """Input transformer: ``%%track ARGS`` on the first line becomes a call to ``begin_cell``."""
    if not lines:
        return lines
    match = _MAGIC_LINE.match(lines[0].rstrip("\r\n"))
    if match is None or lines[0].rstrip().endswith("?"):
        return lines  # not ours, or a help request (%%track?)
    args = (match["args"] or "").strip()
    call = f"__import__('nbtrack.magics.commands', fromlist=['_']).begin_cell({args!r})\n"
    return [call, *lines[1:]]


# IPython skips transformers with side effects when it only checks whether input is complete,
# which keeps the terminal's "a cell magic ends at a blank line" rule for %%track.
rewrite.has_side_effects = True  # type: ignore[attr-defined]


def show_magic_line(filename: str, raw_cell: str) -> None:
    """Make tracebacks of the cell show its ``%%track`` line, not the call it was rewritten to.

    IPython keeps each cell's compiled source in ``linecache``; the first line is swapped back
    to what the user typed (same line count, so every line number stays right).
    """
    entry: Any = linecache.cache.get(filename)  # (size, mtime, lines, fullname)
    if entry and entry[2] and "begin_cell" in entry[2][0]:
        entry[2][0] = raw_cell.lstrip("\n").split("\n", 1)[0] + "\n"


def _python(shell: Any, body: str) -> str:
    """The cell body as plain Python (IPython syntax such as %magics translated)."""
    try:
        return shell.transform_cell(body)
    except Exception:
        return ""


def _execution_count(shell: Any) -> int | None:
    """The In[N] of the executing cell (IPython versions bump the counter at different times)."""
    result = getattr(shell.displayhook, "exec_result", None)
    return getattr(result, "execution_count", None) or shell.execution_count


def lineage_of(notebook: str | None, cell_id: str | None, source: str) -> str:
    """Id shared by every run of one cell: its cell id in its notebook, else its source."""
    anchor = f"id:{cell_id}" if cell_id else f"source:{source}"
    return hashlib.sha1(f"{notebook or ''}\0{anchor}".encode()).hexdigest()[:16]


def begin(shell: Any, options: Any, tags: dict[str, str], raw_cell: str, info: Any) -> TrackedCell:
    """Start the run of a cell (raises StoreError when the store cannot be written)."""
    body = raw_cell.split("\n", 1)[1] if raw_cell.lstrip().startswith("%%") else raw_cell
    params = {} if options.no_capture else literal_params(_python(shell, body))
    notebook = notebook_path(shell.user_ns)
    cell_id = getattr(info, "cell_id", None)
    context = {
        "notebook": notebook,
        "cell_id": cell_id,
        "lineage": lineage_of(notebook, cell_id, raw_cell),
        "execution_count": _execution_count(shell),
        "code": raw_cell,
    }
    system = True if getattr(options, "system", False) else None  # None: $NBTRACK_SYSTEM_METRICS
    autolog = True if getattr(options, "autolog", False) else None  # None: as it is
    run = start_run(options.name, options.experiment, params, tags, context=context,
                    system_metrics=system, autolog=autolog)  # fmt: skip
    live = LivePlot(run, options.live) if options.live else None
    return TrackedCell(run, info, options.params, options.inputs, live)


def finish(cell: TrackedCell, shell: Any, error: BaseException | None) -> None:
    """End a cell's run with the cell's outcome; problems are warnings, never the cell's loss."""
    try:
        named = named_params(cell.param_names, shell.user_ns)
        if named:
            cell.run.log_params(named)
    except Exception as err:
        warnings.warn(f"nbtrack could not record -p params: {err}", NbtrackWarning, stacklevel=2)
    for name in cell.input_names:
        try:
            if name not in shell.user_ns:
                raise NameError(f"the cell left no variable {name!r}")
            cell.run.log_input(shell.user_ns[name], name=name)
        except Exception as err:
            warnings.warn(f"nbtrack could not record -i {name}: {err}", NbtrackWarning,
                          stacklevel=2)  # fmt: skip
    if error is None:
        status, detail = outcome(None, None, None)
    else:
        status, detail = outcome(type(error), error, error.__traceback__)
    try:
        cell.run.end(status, detail)
    except (StoreError, OSError) as err:
        warnings.warn(f"nbtrack could not end run {cell.run.id}: {err}", NbtrackWarning,
                      stacklevel=2)  # fmt: skip
    finally:
        if cell.live is not None:
            cell.live.stop()


def on_pre_run_cell(info: Any) -> None:
    state.infos.append(info)


def make_post_run_cell(shell: Any):
    def on_post_run_cell(result: Any) -> None:
        info = state.infos.pop() if state.infos else None
        cell = state.current
        if cell is not None and (cell.info is info or info is None):
            state.current = None
            finish(cell, shell, result.error_in_exec if result is not None else None)

    return on_post_run_cell
