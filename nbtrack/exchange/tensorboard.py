"""``nbtrack.import_tensorboard``: runs from a TensorBoard log folder, read with TensorBoard's own
event file reader (``pip install 'nbtrack[tensorboard]'``).

How TensorBoard's logs map onto nbtrack's runs:

* every folder holding ``events.out.tfevents.*`` files (at any depth) is a run, named by its
  path under the log folder (the log folder's own name if it holds event files itself); its
  experiment is ``experiment=`` or the log folder's name. The folder's absolute path is kept
  in the tag ``tensorboard.path`` and gives the run's id, so importing again skips it.
* scalars (old-style ``simple_value`` and tensor scalars alike): metric histories with their
  steps and wall times.
* HParams (``add_hparams``, ``hparams.hp.hparams``): the session's hyperparameters become
  params (numbers that are whole become ints, strings and bools stay so), its end status the
  run's status, and its metrics are the scalars of the session. ``add_hparams`` writes the
  session into a subfolder of the writer's folder; such a subfolder is imported as part of
  the run of the folder above it (one run: curves, params and final metrics).
* text (without the ``/text_summary`` that ``add_text`` appends to tags): a tag when every
  value of it is one line of at most ``TEXT_TAG_LIMIT`` characters (its latest value is the
  tag's value), else one artifact per step, ``text/<tag>/<step>.md``.
* images: artifacts ``images/<tag>/<step>.png`` (``<step>_<i>.png`` for several at a step).
* the run starts at its first event and ends, finished, at its last one.
* not imported: histograms, distributions, audio, graphs, embeddings, PR curves and meshes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NbtrackError
from ..extras import optional
from ..names import stable_run_id
from ..store.layout import store_error
from .rows import RunRows
from .segments import Import, importing

WRITER = "import-tensorboard"
EVENT_FILE = "events.out.tfevents."
TEXT_TAG_LIMIT = 250
TEXT_SUFFIX = "/text_summary"  # what tensorboardX's and PyTorch's add_text append to the tag
# Metric points gathered before the rows so far are written as segments (memory bound).
POINTS_PER_WRITE = 1_000_000
# hparams' session Status: SUCCESS, FAILURE, RUNNING (no end: shown as crashed); UNKNOWN: finished
SESSION_STATUS: dict[int, str | None] = {1: "finished", 2: "failed", 3: None}
# Logs of at least this many bytes are read by up to MAX_WORKERS processes at once (TensorBoard's
# reader, without TensorFlow, checks each record's CRC in pure Python: ~20 µs a record).
PARALLEL_BYTES = 32_000_000
MAX_WORKERS = 8
_IMAGE_KINDS = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpg", b"GIF8": "gif"}


def import_tensorboard(logdir: str | os.PathLike[str], experiment: str | None = None) -> int:
    """Copy the runs of a TensorBoard log folder into the current nbtrack store; returns how
    many runs were added (runs already imported from the same folders are skipped). See the
    module docs for what becomes what.

    >>> import nbtrack, tempfile
    >>> from tensorboardX import SummaryWriter
    >>> logs = tempfile.mkdtemp()
    >>> with SummaryWriter(f"{logs}/lr-0.1") as writer:
    ...     for step in range(3):
    ...         writer.add_scalar("loss", 1 / (step + 1), step)
    ...     writer.add_hparams({"lr": 0.1, "layers": 2}, {"hparam/accuracy": 0.9})
    >>> nbtrack.set_store(tempfile.mkdtemp())
    >>> nbtrack.import_tensorboard(logs, experiment="sweep")
    1
    >>> runs = nbtrack.search(experiment="sweep")
    >>> runs[["name", "params.lr", "params.layers", "metrics.hparam/accuracy"]].values.tolist()
    [['lr-0.1', 0.1, 2, 0.8999999761581421]]
    >>> nbtrack.import_tensorboard(logs, experiment="sweep")
    0
    """
    root = Path(logdir).expanduser().resolve()
    if not root.is_dir():
        raise NbtrackError(f"no folder at {root}: pass a TensorBoard log folder (its --logdir)")
    folders = run_folders(root)
    if not folders:
        raise NbtrackError(
            f"{root} holds no TensorBoard event files ({EVENT_FILE}*): pass the folder "
            "TensorBoard's --logdir points at"
        )
    reader = _Reader()
    experiment = experiment or root.name
    ids = {folder: run_id(folder) for folder in folders}
    with importing("tensorboard") as job:
        have = job.existing(ids.values())
        rows = RunRows()
        added = 0
        for folder, run in _runs(reader, root, folders, ids, have):
            name = root.name if folder == root else folder.relative_to(root).as_posix()
            run.add_to(rows, job, ids[folder], experiment, name)
            added += 1
            if len(rows.tables["metrics"]) >= POINTS_PER_WRITE:
                rows.write(job)
                rows = RunRows()
        rows.write(job)
    return added


def _runs(
    reader: _Reader,
    root: Path,
    folders: dict[Path, list[Path]],
    ids: dict[Path, str],
    have: set[str],
) -> Iterator[tuple[Path, _Run]]:
    """The runs to add, each once its folder's subtree is read (so an ``add_hparams``
    subfolder, which comes right after its writer's folder, joins that run)."""
    todo = [(folder, files) for folder, files in folders.items() if ids[folder] not in have]
    pending: dict[Path, _Run] = {}
    for run in reader.read_all(todo):
        folder = run.folder
        for done in [p for p in pending if not folder.is_relative_to(p)]:
            yield done, pending.pop(done)
        parent = folder.parent
        if run.session and folder != root and parent in folders:
            if ids[parent] in have:  # imported before, with this subfolder
                continue
            if parent in pending:
                pending[parent].absorb(run)
                continue
        pending[folder] = run
    yield from pending.items()


def run_folders(root: Path) -> dict[Path, list[Path]]:
    """The folders under ``root`` (itself included) holding event files, each with its event
    files in the order they were written (their names start with the writer's start time).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("a/events.out.tfevents.2.h", "a/events.out.tfevents.1.h", "b/c/x"):
    ...     (root / name).parent.mkdir(parents=True, exist_ok=True)
    ...     (root / name).touch()
    >>> {f.name: [p.name for p in files] for f, files in run_folders(root).items()}
    {'a': ['events.out.tfevents.1.h', 'events.out.tfevents.2.h']}
    """
    found: dict[Path, list[Path]] = {}
    for top, dirs, files in os.walk(root):
        dirs.sort()
        events = sorted(name for name in files if name.startswith(EVENT_FILE))
        if events:
            found[Path(top)] = [Path(top) / name for name in events]
    return found


def run_id(folder: Path) -> str:
    """The id of the run imported from a run folder (the same each time it is imported)."""
    return stable_run_id("tensorboard", str(folder))


@dataclass
class _Run:
    """What one run folder (with its hparams subfolders) holds; times in epoch microseconds."""

    folder: Path
    started: int | None = None
    ended: int | None = None
    metrics: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)
    texts: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    images: list[tuple[str, int, int, list[bytes]]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    params_time: int | None = None
    status: str | None = "finished"
    status_time: int | None = None
    session: bool = False

    def seen(self, time: int) -> None:
        self.started = time if self.started is None else min(self.started, time)
        self.ended = time if self.ended is None else max(self.ended, time)

    def absorb(self, other: _Run) -> None:
        """Add what ``other`` (the same run's data from another folder) holds."""
        for time in (other.started, other.ended):
            if time is not None:
                self.seen(time)
        for key, points in other.metrics.items():
            self.metrics.setdefault(key, []).extend(points)
        for key, texts in other.texts.items():
            self.texts.setdefault(key, []).extend(texts)
        self.images += other.images
        self.params.update(other.params)
        self.params_time = other.params_time if other.params_time else self.params_time
        if other.session:
            self.session = True
            self.status, self.status_time = other.status, other.status_time

    def add_to(self, rows: RunRows, job: Import, run_id: str, experiment: str, name: str) -> None:
        """Add the run's rows to ``rows`` and its images and long texts to the store."""
        started = self.started if self.started is not None else _folder_time(self.folder)
        ended = self.status_time or self.ended
        rows.run(run_id, experiment, name, started, ended, self.status, writer=WRITER)
        rows.params(run_id, self.params, self.params_time or started)
        tags = {"tensorboard.path": str(self.folder)}
        for key, values in self.texts.items():
            if all(len(text) <= TEXT_TAG_LIMIT and "\n" not in text for _, _, text in values):
                for _, time, text in sorted(values, key=lambda v: v[1]):
                    rows.tags(run_id, {key: text}, time)
            else:
                for step, time, text in values:
                    path = f"text/{_safe(key)}/{step}.md"
                    rows.add("artifacts", _save(job, run_id, path, text.encode(), time))
        rows.tags(run_id, tags, started)
        for key, points in self.metrics.items():
            rows.points(run_id, key, points)
        for key, step, time, images in self.images:
            for i, data in enumerate(images):
                kind = next((k for m, k in _IMAGE_KINDS.items() if data.startswith(m)), "png")
                suffix = f"_{i}" if len(images) > 1 else ""
                path = f"images/{_safe(key)}/{step}{suffix}.{kind}"
                rows.add("artifacts", _save(job, run_id, path, data, time))


class _Reader:
    """Reads run folders with TensorBoard's event file loader and summary protos."""

    def __init__(self) -> None:
        feature = "import_tensorboard"
        loader = optional("tensorboard.backend.event_processing.event_file_loader", feature,
                          "tensorboard")  # fmt: skip
        self._raw = loader.RawEventFileLoader
        self._event = optional("tensorboard.compat.proto.event_pb2", feature, "tensorboard").Event
        self._compat = optional("tensorboard.data_compat", feature, "tensorboard")
        self._tensor = optional("tensorboard.util.tensor_util", feature, "tensorboard")
        self._hparams = optional("tensorboard.plugins.hparams.metadata", feature, "tensorboard")

    def events(self, files: Iterable[Path]) -> Iterator[Any]:
        parse = self._event.FromString
        for path in files:
            for record in self._raw(str(path)).Load():
                yield parse(record)

    def read_all(self, folders: list[tuple[Path, list[Path]]]) -> Iterator[_Run]:
        """The runs of ``folders``, in order; big logs are shared with worker processes."""
        sizes = [sum(path.stat().st_size for path in files) for _, files in folders]
        workers = min(os.cpu_count() or 1, len(folders), MAX_WORKERS)
        if sum(sizes) < PARALLEL_BYTES or workers < 2:
            yield from (self.read(folder, files) for folder, files in folders)
            return
        shares: list[list[tuple[Path, list[Path]]]] = [[] for _ in range(workers)]
        loads = [0] * workers
        for size, folder in sorted(zip(sizes, folders, strict=True), key=lambda pair: -pair[0]):
            least = loads.index(min(loads))
            shares[least].append(folder)
            loads[least] += size
        children = [_start_worker(share) for share in shares[1:]]
        read = {run.folder: run for run in (self.read(f, files) for f, files in shares[0])}
        for child in children:
            read.update((run.folder, run) for run in _worker_result(child))
        yield from (read[folder] for folder, _ in folders)

    def read(self, folder: Path, files: list[Path]) -> _Run:
        """Everything imported from the event files of one folder."""
        run = _Run(folder)
        plugins: dict[str, str] = {}  # tag -> plugin (TF2 writers give it on a tag's first value)
        metrics = run.metrics
        first = last = None
        for event in self.events(files):
            time = round(event.wall_time * 1e6)
            if first is None:
                first = last = time
            elif time > last:
                last = time
            elif time < first:
                first = time
            if not event.HasField("summary"):
                continue
            step = event.step
            for value in event.summary.value:
                if value.HasField("simple_value"):  # the usual scalar: the fast path
                    points = metrics.get(value.tag)
                    if points is None:
                        points = metrics[value.tag] = []
                    points.append((step, time, value.simple_value))
                    continue
                value = self._compat.migrate_value(value)
                plugin = value.metadata.plugin_data.plugin_name or plugins.get(value.tag, "")
                plugins.setdefault(value.tag, plugin)
                self._value(run, plugin, value, step, time)
        if first is not None and last is not None:
            run.seen(first)
            run.seen(last)
        return run

    def _value(self, run: _Run, plugin: str, value: Any, step: int, time: int) -> None:
        if plugin == "hparams":
            self._session(run, value, time)
        elif not value.HasField("tensor"):
            return
        elif plugin == "scalars":
            number = self._tensor.make_ndarray(value.tensor)
            run.metrics.setdefault(value.tag, []).append((step, time, float(number)))
        elif plugin == "text":
            texts = self._tensor.make_ndarray(value.tensor).ravel()
            text = "\n".join(t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)
                             for t in texts)  # fmt: skip
            tag = value.tag.removesuffix(TEXT_SUFFIX)
            run.texts.setdefault(tag, []).append((step, time, text))
        elif plugin == "images":
            images = list(value.tensor.string_val[2:])  # width, height, then encoded images
            if images:
                run.images.append((value.tag, step, time, images))

    def _session(self, run: _Run, value: Any, time: int) -> None:
        """HParams data: the session's start (params) and end (status)."""
        content = value.metadata.plugin_data.content
        hparams = self._hparams
        if value.tag == hparams.SESSION_START_INFO_TAG:
            start = hparams.parse_session_start_info_plugin_data(content)
            run.params.update({key: _hparam(v) for key, v in start.hparams.items()})
            run.params_time = round(start.start_time_secs * 1e6) if start.start_time_secs else time
            run.session = True
        elif value.tag == hparams.SESSION_END_INFO_TAG:
            end = hparams.parse_session_end_info_plugin_data(content)
            run.status = SESSION_STATUS.get(end.status, "finished")
            run.status_time = round(end.end_time_secs * 1e6) if end.end_time_secs else time
            run.session = True


def _start_worker(folders: list[tuple[Path, list[Path]]]) -> subprocess.Popen[bytes]:
    """A Python process reading ``folders`` (``python -m nbtrack.exchange.tensorboard``: a
    fresh interpreter, so the caller's script is not run again, unlike multiprocessing's
    spawn, and the caller's threads are not forked)."""
    package_root = str(Path(__file__).resolve().parents[2])
    paths = [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    child = subprocess.Popen(
        [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert child.stdin is not None
    child.stdin.write(pickle.dumps(folders))
    child.stdin.close()
    return child


def _worker_result(child: subprocess.Popen[bytes]) -> list[_Run]:
    """The runs a worker read (its error, if it failed)."""
    assert child.stdout is not None and child.stderr is not None
    out = child.stdout.read()
    err = child.stderr.read()
    if child.wait() != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise NbtrackError(f"reading TensorBoard event files failed: {lines[-1] if lines else ''}")
    runs: list[_Run] = pickle.loads(out)
    return runs


def _worker() -> None:
    """Read the folders pickled on stdin; pickle their runs to stdout."""
    folders = pickle.loads(sys.stdin.buffer.read())
    reader = _Reader()
    sys.stdout.buffer.write(pickle.dumps([reader.read(f, files) for f, files in folders]))


def _hparam(value: Any) -> Any:
    """A hyperparameter (a protobuf ``Value``) as Python: whole numbers as ints."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "string_value":
        return value.string_value
    return None if kind in (None, "null_value") else str(value)


def _safe(tag: str) -> str:
    """A summary tag as a relative path: its ``/`` parts kept, odd characters replaced.

    >>> _safe("eval/../sample: 1")
    'eval/sample_ 1'
    """
    parts = (re.sub(r'[\\:*?"<>|\x00-\x1f]', "_", part) for part in tag.split("/"))
    return "/".join(p for p in parts if p not in ("", ".", "..")) or "_"


def _save(job: Import, run_id: str, path: str, data: bytes, time: int) -> dict[str, Any]:
    """Write ``data`` as the run's artifact ``path``; its ``artifacts`` row."""
    target = job.store.layout.artifacts / run_id / path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as err:
        raise store_error(f"write the artifact {target}", err) from err
    return {"run_id": run_id, "path": path, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "timestamp": time}  # fmt: skip


def _folder_time(folder: Path) -> int:
    """When a folder without events was written (its newest event file's change time)."""
    return round(max(p.stat().st_mtime for p in folder.glob(f"{EVENT_FILE}*")) * 1e6)


if __name__ == "__main__":
    from nbtrack.exchange.tensorboard import _worker as worker  # its runs pickle by that name

    worker()
