"""Launching a notebook, a script or an MLproject folder as one run.

The launcher starts the run, hands it to the notebook's kernel or the script's process (see
``handoff.py``), and ends it with the outcome it saw: ``finished``, ``failed`` with the failing
cell and its traceback (or the process's last lines), or ``interrupted``. The executed notebook,
with its outputs (as far as it got), or the process's output is stored with the run.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import handoff
from ..context import git_info
from ..errors import ProjectError, RunFailedError
from ..exits import outcome
from .processes import run_process, script_args

if TYPE_CHECKING:
    from ..tracking import Run

KINDS = ("notebook", "script", "mlproject")
# a sweep trial that raised TrialPruned, as a notebook's failure or a script's last line says
_PRUNED_LINE = re.compile(r"^(?:cell \d+ of \d+ raised |(?:\w+\.)*)TrialPruned:? ?(.*)$")
ENV_MANAGERS = ("local", "venv")


@dataclass
class Options:
    """How a target runs (the same for every run of a sweep)."""

    kernel: str | None = None  # notebooks: the kernel (default: the notebook's own)
    cwd: Path | None = None  # default: the notebook's or script's folder, the project's root
    timeout: float | None = None  # notebooks: per cell; scripts and commands: the whole run
    output: Path | None = None  # notebooks: also save the executed notebook here
    progress: bool = True  # notebooks: show "cell k of n" while running
    echo: bool = True  # scripts and commands: echo their output
    env_manager: str = "local"  # MLproject folders: "local" (this environment) or "venv"


@dataclass(frozen=True)
class Target:
    """What to run: a notebook, a Python script, or an MLproject folder's entry point."""

    path: Path
    kind: str
    entry_point: str | None = None

    @classmethod
    def open(cls, target: str | os.PathLike[str], entry_point: str | None = None) -> Target:
        """The target at ``target``, its kind told by its name: ``*.ipynb``, ``*.py``, or a
        folder."""
        path = Path(target).expanduser().resolve()
        if not path.exists():
            raise ProjectError(f"nothing to run at {target}: no such notebook, script or folder")
        if path.is_dir():
            return cls(path, "mlproject", entry_point or "main")
        if entry_point is not None:
            raise ProjectError(
                f"-e/--entry-point names an MLproject entry point; {target} is a file, not a "
                "project folder"
            )
        if path.suffix == ".ipynb":
            return cls(path, "notebook")
        if path.suffix == ".py":
            return cls(path, "script")
        raise ProjectError(
            f"cannot run {target}: give a notebook (.ipynb), a Python script (.py) or an "
            "MLproject folder"
        )

    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The params the run gets: an MLproject entry point's, checked and with its defaults
        filled in (a ProjectError before anything runs), else ``params`` as given."""
        if self.kind == "notebook":
            from .notebooks import read_notebook

            read_notebook(self.path)  # a file that is no notebook fails before the run starts
        if self.kind != "mlproject":
            return dict(params)
        return self._entry().resolve(params)

    def _entry(self) -> Any:
        from .mlproject import load_project

        return load_project(self.path).entry_point(self.entry_point or "main")

    def prepare(self, options: Options) -> dict[str, str]:
        """Make the environment ready (a project's venv, built or reused) before the run
        starts; returns the variables that select it."""
        if options.env_manager not in ENV_MANAGERS:
            raise ProjectError(
                f"unknown environment manager {options.env_manager!r}; use one of "
                f"{', '.join(ENV_MANAGERS)}"
            )
        if options.env_manager == "local":
            return {}
        if self.kind != "mlproject":
            raise ProjectError("--env-manager venv applies to MLproject folders only")
        from .mlproject import load_project
        from .venv import ensure_env, env_vars

        return env_vars(ensure_env(load_project(self.path)))

    def context(self) -> dict[str, Any]:
        """Source columns of the run: the target (as the notebook, for notebooks) and the git
        state of its folder."""
        commit, dirty = git_info(self.path if self.path.is_dir() else self.path.parent)
        notebook = str(self.path) if self.kind == "notebook" else None
        return {"source": str(self.path), "notebook": notebook, "git_commit": commit,
                "git_dirty": dirty}  # fmt: skip

    def tags(self, options: Options) -> dict[str, str]:
        tags = {"nbtrack.kind": self.kind}
        if self.kind == "mlproject":
            tags |= {"nbtrack.entry_point": self.entry_point or "main",
                     "nbtrack.env_manager": options.env_manager}  # fmt: skip
        return tags

    def execute(
        self, run: Run, params: Mapping[str, Any], options: Options, env: Mapping[str, str]
    ) -> tuple[str, str | None]:
        """Run the target in ``run`` to its end; returns its (status, detail)."""
        if self.kind == "notebook":
            return self._notebook(run, params, options, env)
        if self.kind == "script":
            command: list[str] | str = [sys.executable, str(self.path), *script_args(params)]
        else:
            command = self._entry().command_line(params)
        cwd = options.cwd or (self.path if self.path.is_dir() else self.path.parent)
        with tempfile.TemporaryDirectory(prefix="nbtrack-") as tmp:
            log = Path(tmp) / "output.log"
            try:
                return run_process(
                    command, cwd=cwd, env=env, log=log, echo=options.echo, timeout=options.timeout
                )
            finally:
                if log.exists():
                    run.log_artifact(log)

    def _notebook(
        self, run: Run, params: Mapping[str, Any], options: Options, env: Mapping[str, str]
    ) -> tuple[str, str | None]:
        from .notebooks import execute, inject_parameters, read_notebook, write_notebook
        from .progress import Progress

        nb = inject_parameters(read_notebook(self.path), params)
        cells = sum(c.cell_type == "code" for c in nb.cells)
        progress = Progress(self.path.name, cells) if options.progress else None
        status = "interrupted"
        try:
            status, detail = execute(
                nb, env={**env, "NBTRACK_NOTEBOOK": str(self.path)},
                cwd=options.cwd or self.path.parent, kernel=options.kernel,
                timeout=options.timeout, progress=progress,
            )  # fmt: skip
            return status, detail
        finally:
            if progress is not None:
                progress.close(status)
            with tempfile.TemporaryDirectory(prefix="nbtrack-") as tmp:
                executed = options.output or Path(tmp) / self.path.name
                write_notebook(nb, executed)
                run.log_artifact(executed, self.path.name)


def launch(
    target: str | os.PathLike[str] | Target,
    params: Mapping[str, Any] | None = None,
    *,
    experiment: str | None = None,
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    parent: Run | str | None = None,
    options: Options | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    before_end: Callable[[Run], None] | None = None,
) -> Run:
    """Run ``target`` (see :class:`Target`) with ``params`` as one run, and return it ended.

    A failed target raises :class:`nbtrack.RunFailedError` carrying the run unless ``check``
    is False; Ctrl-C ends the run ``interrupted`` and propagates. ``env``: more environment
    variables for the target; ``before_end(run)`` is called once the target is done, while
    the run is still running.
    """
    from ..store import get_store
    from ..tracking import start_run

    options = options or Options()
    spec = target if isinstance(target, Target) else Target.open(target)
    values = spec.resolve(params or {})
    env_vars = spec.prepare(options)
    run = start_run(
        name, experiment, params=values, tags={**spec.tags(options), **(tags or {})},
        parent=parent, context=spec.context(),
    )  # fmt: skip
    environ = {
        **os.environ, **env_vars, **(env or {}),
        **handoff.environ(run.id, run.name, run.experiment, values),
        "NBTRACK_STORE": str(get_store().location), "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    try:
        status, detail = spec.execute(run, values, options, environ)
    except BaseException as exc:
        run.end(*outcome(type(exc), exc, exc.__traceback__))
        raise
    if status == "failed" and (pruned := pruned_detail(detail)):
        status, detail = "interrupted", pruned
    if before_end is not None:
        before_end(run)
    run.end(status, detail)
    if check and status != "finished":
        raise RunFailedError(run, detail)
    return run


def pruned_detail(detail: str | None) -> str | None:
    """The pruning message when a trial's failure detail says it raised TrialPruned, else None.

    >>> pruned_detail("cell 4 of 6 raised TrialPruned: pruned at step 3: loss=0.5")
    'pruned at step 3: loss=0.5'
    >>> pruned_detail("Traceback ...\\nnbtrack.sweeps.pruning.TrialPruned: pruned at step 1")
    'pruned at step 1'
    """
    for line in reversed((detail or "").splitlines()):
        match = _PRUNED_LINE.match(line.strip())
        if match:
            return match.group(1) or "pruned"
    return None
