"""The ``%%track`` cell magic and the ``%track`` line magic."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from typing import Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .. import active
from ..errors import NbtrackError, StoreError
from . import cell as cells


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def _tags(pairs: list[str] | None) -> dict[str, str]:
    tags = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"-t takes KEY=VALUE, got {pair!r}; e.g. %%track -t model=rf")
        tags[key] = value
    return tags


@magics_class
class TrackMagics(Magics):
    """nbtrack's notebook magics."""

    @magic_arguments()
    @argument("name", nargs="?", default=None, help="run name (default: a generated one)")
    @argument("-e", "--experiment", default=None, help="experiment (default: the current one)")
    @argument(
        "-p", "--params", action="append", default=[], type=_keys, metavar="NAME[,NAME…]",
        help="also record these variables as params, read after the cell",
    )  # fmt: skip
    @argument(
        "-i", "--inputs", action="append", default=[], type=_keys, metavar="NAME[,NAME…]",
        help="record these variables (DataFrames, arrays, paths) as the run's datasets, "
        "read after the cell",
    )  # fmt: skip
    @argument("-t", "--tag", action="append", metavar="KEY=VALUE", help="set a tag (repeatable)")
    @argument(
        "--no-capture", action="store_true",
        help="do not record the cell's literal assignments (lr = 0.01) as params",
    )  # fmt: skip
    @argument(
        "--live", type=_keys, default=None, metavar="KEY[,KEY…]",
        help="show the latest values of these metrics under the cell while it runs",
    )  # fmt: skip
    @argument(
        "--system", action="store_true",
        help="log CPU, memory, disk, network and GPU use as system/... metrics while it runs",
    )  # fmt: skip
    @argument(
        "--autolog", action="store_true",
        help="autolog scikit-learn, XGBoost, LightGBM and Keras training while the cell runs",
    )  # fmt: skip
    @cell_magic("track")  # type: ignore[arg-type]  # (IPython types the marker as taking Never)
    def track_cell(self, line: str, cell: str) -> None:
        """Run the cell as an nbtrack run.

        The cell runs as a normal cell; inside it ``nbtrack.log(...)`` and friends go to its
        run. Recorded: params from literal assignments (``lr = 0.01``) and ``-p`` names, the
        cell source, notebook, cell id, execution count, duration, git commit, environment,
        and the outcome (an exception marks the run failed and propagates unchanged).
        Re-running the cell makes a new run with the same ``lineage``.

        Example::

            %%track baseline -e wine -t model=rf --live loss
            lr = 0.01
            for epoch in range(10):
                nbtrack.log(loss=1 / (epoch + 1))
        """
        shell = self.shell
        assert shell is not None  # a magic runs in a shell
        options, tags = _parse(line)
        tracked = _begin(shell, options, tags, f"%%track {line}\n{cell}", None)
        result = shell.run_cell(cell)
        cells.finish(tracked, shell, result.error_in_exec)

    @line_magic("track")  # type: ignore[arg-type]
    def track_line(self, line: str) -> Any:
        """Runs and store from the notebook.

        ``%track start [NAME] [-e EXPERIMENT]``   start a run that lasts until ``%track end``
        ``%track end [STATUS]``                   end it (finished, failed, interrupted, killed)
        ``%track ls [-n N] [-e EXPERIMENT]``      recent runs as a text table
        ``%track store [PATH]``                   show, or change, the store folder
        ``%track export PATH``                    write runs to Parquet
        ``%track table [-e EXPERIMENT] [-f FILTER]``  the run table widget
        ``%track plot KEY… [-r RUN,RUN] [-x step|time|relative]``  metric curves
        ``%track compare RUN RUN…``               runs side by side
        ``%track models [FILTER]``                the model registry widget
        ``%track autolog [off]``                  autologging of training calls on (or off)
        """
        command, _, text = line.strip().partition(" ")
        if command == "models":  # the rest of the line is a filter, quotes and all
            return _models(self.shell, text)
        words = shlex.split(line)
        if not words:
            raise UsageError(
                "usage: %track start|end|ls|store|export|table|plot|compare|models|autolog …"
            )
        command, rest = words[0], words[1:]
        handler = _LINE_COMMANDS.get(command)
        if handler is None:
            raise UsageError(
                f"unknown %track command {command!r}; use one of {', '.join(_LINE_COMMANDS)}"
            )
        try:
            return handler(self.shell, rest)
        except (NbtrackError, ValueError) as err:
            raise UsageError(str(err)) from err


def _parse(line: str) -> tuple[argparse.Namespace, dict[str, str]]:
    options = parse_argstring(TrackMagics.track_cell, line)
    options.params = [name for group in options.params for name in group]
    options.inputs = [name for group in options.inputs for name in group]
    return options, _tags(options.tag)


def _begin(shell: Any, options: argparse.Namespace, tags: dict[str, str], raw: str, info: Any):
    try:
        return cells.begin(shell, options, tags, raw, info)
    except StoreError as err:
        raise UsageError(str(err)) from err


def begin_cell(line: str) -> None:
    """Start the run of the executing ``%%track`` cell (its first line calls this)."""
    from IPython import get_ipython

    shell = get_ipython()
    info = cells.state.infos[-1] if cells.state.infos else None
    raw = getattr(info, "raw_cell", None) or f"%%track {line}\n"
    cells.show_magic_line(sys._getframe(1).f_code.co_filename, raw)
    options, tags = _parse(line)
    cells.state.current = _begin(shell, options, tags, raw, info)


# ---- %track subcommands -------------------------------------------------------------------------
class _SubcommandParser(argparse.ArgumentParser):
    """Arguments of a ``%track`` subcommand; bad ones are a one-line UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _sub_parser(prog: str) -> argparse.ArgumentParser:
    return _SubcommandParser(prog=f"%track {prog}", add_help=False)


def _start(shell: Any, args: list[str]) -> None:
    import nbtrack

    parser = _sub_parser("start")
    parser.add_argument("name", nargs="?")
    parser.add_argument("-e", "--experiment")
    options = parser.parse_args(args)
    from .notebook import notebook_path

    run = nbtrack.start_run(
        options.name, options.experiment, context={"notebook": notebook_path(shell.user_ns)}
    )
    active.pin(run)  # the cells to come may each run as an asyncio task of their own
    print(f"started run {run.name!r} ({run.id}); end it with %track end")


def _end(shell: Any, args: list[str]) -> None:
    import nbtrack

    run = nbtrack.active_run()
    if run is None:
        raise UsageError("there is no active run to end; start one with %track start")
    nbtrack.end_run(*args[:1])
    print(f"ended run {run.name!r} ({run.id}): {run.status}")


def _ls(shell: Any, args: list[str]) -> None:
    import nbtrack

    from ..cli import LS_COLUMNS, format_table

    parser = _sub_parser("ls")
    parser.add_argument("-n", "--limit", type=int, default=20)
    parser.add_argument("-e", "--experiment")
    options = parser.parse_args(args)
    frame = nbtrack.search(experiment=options.experiment, limit=options.limit)
    if frame.empty:
        print("no runs")
    else:
        print(format_table(frame[list(LS_COLUMNS)].to_dict("records"), LS_COLUMNS, 100))


def _store(shell: Any, args: list[str]) -> None:
    from ..config import set_store, settings
    from ..store import get_store

    if args:
        previous = settings.store
        set_store(args[0])
        try:
            get_store().layout.create()
        except StoreError:
            settings.store = previous
            raise
    print(f"nbtrack store: {settings.store_path()}")


def _export(shell: Any, args: list[str]) -> None:
    import nbtrack

    if len(args) != 1:
        raise UsageError("usage: %track export PATH  (PATH.parquet: one file; PATH/: a bundle)")
    nbtrack.export(args[0])
    print(f"exported runs to {args[0]}")


def _table(shell: Any, args: list[str]) -> Any:
    import nbtrack

    parser = _sub_parser("table")
    parser.add_argument("-e", "--experiment")
    parser.add_argument("-f", "--filter")
    options = parser.parse_args(args)
    return nbtrack.table(experiment=options.experiment, filter=options.filter)


def _plot(shell: Any, args: list[str]) -> Any:
    import nbtrack

    parser = _sub_parser("plot")
    parser.add_argument("keys", nargs="+")
    parser.add_argument("-r", "--runs", type=_keys, help="run ids (default: the latest run)")
    parser.add_argument("-x", choices=("step", "time", "relative"), default="step")
    options = parser.parse_args(args)
    return nbtrack.plot(options.keys, runs=options.runs, x=options.x)


def _compare(shell: Any, args: list[str]) -> Any:
    import nbtrack

    if len(args) < 2:
        raise UsageError("usage: %track compare RUN RUN [RUN …]  (3 or more add a sweep view)")
    return nbtrack.compare(*args)


def _autolog(shell: Any, args: list[str]) -> None:
    from ..autologging import autolog, enabled

    parser = _sub_parser("autolog")
    parser.add_argument("state", nargs="?", choices=("on", "off"), default="on")
    parser.add_argument("--no-models", action="store_true", help="do not log fitted models")
    options = parser.parse_args(args)
    if options.state == "off":
        autolog(disable=True)
        print("autolog off")
        return
    autolog(log_models=not options.no_models)
    print(f"autolog on: {', '.join(enabled()) or 'no supported library is installed'}")


def _models(shell: Any, text: str) -> Any:
    """``%track models name LIKE 'wine%'``: the filter is the rest of the line as typed (or
    one quoted string holding it)."""
    from ..widgets.registry import models

    text = text.strip()
    if text[:1] in ("'", '"') and text[-1:] == text[:1]:
        with contextlib.suppress(ValueError):
            words = shlex.split(text)
            text = words[0] if len(words) == 1 else text
    try:
        return models(filter=text or None)
    except (NbtrackError, ValueError) as err:
        raise UsageError(str(err)) from err


_LINE_COMMANDS = {
    "start": _start,
    "end": _end,
    "ls": _ls,
    "store": _store,
    "export": _export,
    "table": _table,
    "plot": _plot,
    "compare": _compare,
    "autolog": _autolog,
    "models": lambda shell, args: _models(shell, shlex.join(args)),
}
