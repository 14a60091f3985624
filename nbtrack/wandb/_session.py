"""The module-level calls (``wandb.init``, ``wandb.log``, ``wandb.finish``, ...) and the
global run they act on (``wandb.run``).

``init`` follows W&B's ``reinit`` rules when a run is active: ``"finish_previous"`` (or
``True``) finishes the active runs first; ``"return_previous"`` (or ``False``) returns the
active run; ``"create_new"`` starts another run without making it ``wandb.run``; the default
is ``"finish_previous"`` in a notebook and ``"return_previous"`` elsewhere, as in W&B.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import kernel, tracking
from ..errors import NbtrackWarning
from ._artifacts import Artifact
from ._config import as_mapping
from ._run import MetricSpec, Run, default_project, tag_labels
from .errors import NotSupportedError, UsageError

_global: Run | None = None  # wandb.run
_runs: list[Run] = []  # runs started here and not finished, oldest first

REINIT = ("default", "return_previous", "finish_previous", "create_new")


class Settings:
    """``wandb.Settings(...)``: accepted so that ``wandb.init(settings=...)`` runs; nbtrack
    uses none of its values except ``reinit``."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def current() -> Run | None:
    """``wandb.run``: the global run, or None (before init, after finish)."""
    if _global is not None and _global.nbtrack_run.status != "running":
        return None
    return _global


def forget(run: Run) -> None:
    """A run finished: it is no longer ``wandb.run`` nor among the active runs."""
    global _global
    if run in _runs:
        _runs.remove(run)
    if _global is run:
        _global = None


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    tags: Sequence[str] | None = None,
    group: str | None = None,
    notes: str | None = None,
    reinit: bool | str | None = None,
    job_type: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    mode: str | None = None,
    id: str | None = None,
    resume: bool | str | None = None,
    entity: str | None = None,
    settings: Settings | Mapping[str, Any] | None = None,
    allow_val_change: bool | None = None,
    config_exclude_keys: Sequence[str] | None = None,
    config_include_keys: Sequence[str] | None = None,
    save_code: bool | None = None,
    anonymous: str | None = None,
    force: bool | None = None,
    magic: Any = None,
    sync_tensorboard: bool | None = None,
    monitor_gym: bool | None = None,
    resume_from: str | None = None,
    fork_from: str | None = None,
    tensorboard: bool | None = None,
) -> Run:
    """Start a run and make it ``wandb.run``; use it as ``with wandb.init(...) as run:``.

    ``project`` is the nbtrack experiment (default: nbtrack's current experiment); ``name`` the
    run's name; ``config`` (a dict or argparse Namespace) its params. ``tags`` become the tag
    ``wandb.tags`` (comma-separated) and one tag per label valued ``true``; ``group``,
    ``job_type``, ``notes``, ``entity`` and ``id`` become the tags ``wandb.group``,
    ``wandb.job_type``, ``wandb.notes``, ``wandb.entity`` and ``wandb.run_id``. ``dir``,
    ``mode`` (``online``/``offline``), ``settings`` (but ``reinit``), ``save_code``,
    ``anonymous`` and ``force`` change nothing: runs go to the nbtrack store. A run cannot be
    resumed (``resume="must"``) or forked; ``mode="disabled"`` is refused.

    >>> import nbtrack, nbtrack.wandb as wandb, tempfile
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> with wandb.init(project="mnist", config={"lr": 0.01}, tags=["baseline"]) as run:
    ...     for epoch in range(3):
    ...         wandb.log({"loss": 1 / (epoch + 1)})
    >>> record = nbtrack.get_run(run.id)
    >>> record.experiment, record.params, record.tags["baseline"]
    ('mnist', {'lr': 0.01}, 'true')
    >>> nbtrack.history(run.id, "loss")["step"].tolist()
    [0, 1, 2]
    """
    global _global
    _refuse(mode=mode, resume=resume, sync_tensorboard=sync_tensorboard or tensorboard,
            monitor_gym=monitor_gym, resume_from=resume_from, fork_from=fork_from)  # fmt: skip
    how = _reinit_mode(reinit, settings)
    previous = _runs[-1] if _runs else None
    if previous is not None:
        if how == "finish_previous":
            for run in list(reversed(_runs)):
                run.finish()
        elif how != "create_new":
            warnings.warn(
                f"wandb.init() called while run {previous.id} is active: returning it (pass "
                "reinit='finish_previous' to finish it and start a new run)",
                NbtrackWarning,
                stacklevel=2,
            )
            return previous
    values = _config(config, config_include_keys, config_exclude_keys)
    labels = tuple(str(t) for t in tags or ())
    extra = {"wandb.group": group, "wandb.job_type": job_type, "wandb.notes": notes,
             "wandb.entity": entity, "wandb.run_id": id}  # fmt: skip
    all_tags = {**tag_labels(labels), **{k: v for k, v in extra.items() if v is not None}}
    experiment = project or default_project()
    ours = {run.nbtrack_run for run in _runs}
    # W&B runs do not nest in each other (they do in a %%track cell's run).
    parent: Any = tracking.TOP_LEVEL if tracking.active_run() in ours else None

    def start() -> tracking.Run:
        return tracking.start_run(name, experiment, tags=all_tags, parent=parent)

    # A "create_new" run is not made this thread's active run: wandb.run stays as it is.
    nbtrack_run = contextvars.copy_context().run(start) if how == "create_new" else start()
    run = Run(nbtrack_run, experiment, values, labels, group, notes, job_type, entity,
              bool(allow_val_change))  # fmt: skip
    _runs.append(run)
    if how != "create_new" or _global is None:
        _global = run
    return run


def _refuse(**given: Any) -> None:
    if given["mode"] == "disabled":
        raise NotSupportedError(
            "wandb.init(mode='disabled') is not supported by nbtrack.wandb: nbtrack records "
            "every run it starts; to record nothing, skip the wandb calls (or keep the "
            "`import wandb` with the real package in that case)"
        )
    if given["resume"] == "must" or given["resume_from"] or given["fork_from"]:
        raise NotSupportedError(
            "nbtrack cannot reopen a run: a run is written only while it runs, by the process "
            "that started it. Start a new run with wandb.init() (pass id= to keep the old "
            "run's id in its wandb.run_id tag)"
        )
    if given["sync_tensorboard"]:
        raise NotSupportedError(
            "wandb.init(sync_tensorboard=True) is not supported: log with wandb.log, or bring "
            "the TensorBoard logs in afterwards with nbtrack.import_tensorboard(logdir)"
        )
    if given["monitor_gym"]:
        raise NotSupportedError(
            "wandb.init(monitor_gym=True) is not supported: save the videos to files and "
            "wandb.save them"
        )


def _reinit_mode(reinit: bool | str | None, settings: Any) -> str:
    if reinit is None and settings is not None:
        reinit = (settings.get("reinit") if isinstance(settings, Mapping)
                  else getattr(settings, "reinit", None))  # fmt: skip
    if reinit is None:
        reinit = "default"
    if reinit is True:
        return "finish_previous"
    if reinit is False:
        return "return_previous"
    if reinit not in REINIT:
        raise ValueError(
            f"reinit must be True, False or one of {', '.join(REINIT)}; got {reinit!r}"
        )
    if reinit == "default":
        return "finish_previous" if _in_notebook() else "return_previous"
    return str(reinit)


def _in_notebook() -> bool:
    return kernel.shell() is not None


def _config(
    config: Any, include: Sequence[str] | None, exclude: Sequence[str] | None
) -> dict[str, Any]:
    values = as_mapping(config)
    if include:
        values = {k: v for k, v in values.items() if k in include}
    if exclude:
        values = {k: v for k, v in values.items() if k not in exclude}
    return values


def _global_run(what: str) -> Run:
    run = current()
    if run is None:
        raise UsageError(f"You must call wandb.init() before {what}")
    return run


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None,
        sync: bool | None = None) -> None:  # fmt: skip
    """Log to ``wandb.run`` (see :meth:`Run.log`)."""
    _global_run("wandb.log()").log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish ``wandb.run`` (``finished`` for exit code 0 or None, ``failed`` otherwise);
    without a run, nothing happens."""
    run = current()
    if run is not None:
        run.finish(exit_code)


def define_metric(
    name: str,
    step_metric: str | None = None,
    step_sync: bool | None = None,
    hidden: bool | None = None,
    summary: str | None = None,
    goal: str | None = None,
    overwrite: bool | None = None,
) -> MetricSpec:
    """Define a metric of ``wandb.run`` (see :meth:`Run.define_metric`)."""
    return _global_run("wandb.define_metric()").define_metric(
        name, step_metric, step_sync, hidden, summary, goal, overwrite
    )


def save(glob_str: str | Path | None = None, base_path: str | None = None,
         policy: str = "live") -> list[str]:  # fmt: skip
    """Copy files into ``wandb.run``'s artifacts (see :meth:`Run.save`)."""
    return _global_run("wandb.save()").save(glob_str, base_path, policy)


def log_artifact(
    artifact_or_path: Artifact | str | Path,
    name: str | None = None,
    type: str | None = None,
    aliases: list[str] | None = None,
    tags: list[str] | None = None,
) -> Artifact | None:
    """Copy an Artifact, file or folder into ``wandb.run``'s artifacts."""
    return _global_run("wandb.log_artifact()").log_artifact(
        artifact_or_path, name, type, aliases, tags
    )


def login(key: str | None = None, relogin: bool | None = None, host: str | None = None,
          **kwargs: Any) -> bool:  # fmt: skip
    """Return True at once: nbtrack has no server, so there is no account to log in to and no
    network is used (``key`` and ``host`` are not read or stored). Runs go to the local
    nbtrack store."""
    return True


def watch(models: Any = None, *args: Any, **kwargs: Any) -> None:
    """Not supported: nbtrack does not hook into models (see the message)."""
    raise NotSupportedError(
        "wandb.watch is not supported by nbtrack.wandb: nbtrack does not hook into models. "
        "Log what you need after loss.backward(), e.g. "
        "nbtrack.log(grad_norm=float(torch.nn.utils.clip_grad_norm_(model.parameters(), "
        "float('inf')))) or wandb.log({f'grad/{n}': p.grad.norm().item() for n, p in "
        "model.named_parameters()})"
    )


def _wrap_up_at_exit() -> None:
    """Before nbtrack ends the runs left open at exit (finished, or failed on an uncaught
    exception), write what W&B writes at the end: pending rows, summaries, saved files."""
    for run in list(_runs):
        try:
            run.wrap_up()
        except Exception as err:  # the other runs still get theirs
            warnings.warn(f"nbtrack.wandb could not complete run {run.id}: {err}",
                          NbtrackWarning, stacklevel=1)  # fmt: skip


atexit.register(_wrap_up_at_exit)  # after nbtrack's own handler, so it runs before it
