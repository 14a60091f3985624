"""The REST handlers: read the request, answer from the chosen store off the IOLoop, reply JSON.

Every method requires a logged-in user (as every Jupyter endpoint does). Queries run in the
IOLoop's executor, each inside :func:`nbtrack.config.using_store` for the store the request
names, so a slow query never holds up the server and requests for different stores do not
mix. Errors are JSON ``{"error": message, ...}`` with a 4xx status; what went wrong inside a
handler is logged, never sent.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import math
from collections.abc import Awaitable, Callable
from http.client import responses
from pathlib import Path
from types import ModuleType
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from ..config import using_store
from ..errors import FilterError, NbtrackError, RunNotFoundError, StoreError
from ..locations import Location
from ..store import get_store
from .artifacts import artifact_headers
from .stores import choose_store, notebook_names

# A run browser pages through runs; more than this in one answer is a mistake, not a page.
MAX_LIMIT = 5000
DEFAULT_LIMIT = 50
# A chart is at most a few thousand pixels wide (see query/curves.py's BUCKETS).
MAX_BUCKETS = 5000
# Artifact files are sent in pieces this big, so a large one never sits whole in memory.
CHUNK_BYTES = 1 << 20
# Each list answer's shape when the store does not exist yet.
EMPTY_STORE = {"experiments": [], "active": 0}
EMPTY_RUNS = {"runs": [], "total": 0, "columns": {"params": [], "metrics": [], "tags": []}}
EMPTY_CELLS: dict[str, Any] = {"cells": {}}

Answer = Callable[[ModuleType], Any]


def split_terms(text: str) -> list[str]:
    """Comma-separated ``order_by`` terms; commas inside backticks or quotes stay.

    >>> split_terms("metrics.acc DESC, params.`a,b`")
    ['metrics.acc DESC', 'params.`a,b`']
    """
    terms, current, quote = [], "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "`'\"":
            quote = char
        elif char == ",":
            terms.append(current)
            current = ""
            continue
        current += char
    terms.append(current)
    return [term.strip() for term in terms if term.strip()]


def _status(error: Exception) -> int | None:
    """The HTTP status that an exception raised while answering stands for, or None (a bug:
    let Jupyter log it and answer 500)."""
    if isinstance(error, FilterError):
        return 400
    if isinstance(error, (RunNotFoundError, FileNotFoundError)):
        return 404
    if isinstance(error, PermissionError):
        return 403
    if isinstance(error, StoreError):
        return 500
    if isinstance(error, (NbtrackError, ValueError, TypeError)):
        return 400
    return None


def answering(
    method: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """Turn the errors a handler method expects (bad arguments, unknown runs, refused paths)
    into JSON error replies."""

    @functools.wraps(method)
    async def answer(self: NbtrackHandler, *args: Any) -> None:
        try:
            await method(self, *args)
        except Exception as error:
            status = _status(error)
            if status is None:
                raise
            extra = {}
            if isinstance(error, FilterError):
                extra = {"position": error.position, "text": error.text}
            self.reply({"error": str(error), **extra}, status)

    return answer


class NbtrackHandler(APIHandler):
    """What every nbtrack handler shares: the store of the request, and JSON replies."""

    @property
    def server_root(self) -> Path:
        return Path(self.settings["server_root_dir"]).expanduser()

    def store_root(self) -> Location:
        """The store this request reads (see :mod:`nbtrack.server.stores`)."""
        return choose_store(
            self.server_root, self.get_argument("store", None), self.get_argument("notebook", None)
        )

    async def in_store(self, answer: Answer, empty: dict[str, Any] | None = None) -> Any:
        """``answer(answers)`` (the :mod:`nbtrack.server.answers` module) in an executor thread,
        on the request's store. When that store does not exist yet: ``empty`` with ``root`` and
        ``exists: false``, or (``empty`` None) RunNotFoundError. A dict answer gets ``root``
        and ``exists`` too."""
        root = self.store_root()
        if not get_store(root).layout.exists():
            if empty is None:
                raise RunNotFoundError(
                    f"there is no nbtrack store at {root} yet, so no run; runs logged from a "
                    "notebook in this folder create it"
                )
            return {"root": str(root), "exists": False, **empty}

        def call() -> Any:
            from . import answers  # (here: the server starts without loading DuckDB)

            with using_store(root):
                return answer(answers)

        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, contextvars.copy_context().run, call)
        if empty is not None:
            return {"root": str(root), "exists": True, **found}
        return found

    def reply(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload, allow_nan=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors Jupyter raises (refused logins, bad JSON bodies) in the API's shape; an
        unexpected error says only that it happened (the server log has the traceback)."""
        error = kwargs.get("exc_info", (None, None, None))[1]
        message = responses.get(status_code, "error")
        if isinstance(error, tornado.web.HTTPError) and error.log_message:
            message = error.log_message % error.args if error.args else error.log_message
        elif status_code >= 500:
            message = "the nbtrack server extension failed; the Jupyter server's log says why"
        self.finish(json.dumps({"error": message}))

    # ---- arguments ----------------------------------------------------------------------
    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        """Whole-number argument ``name`` (``default`` when absent), from ``low`` to ``high``."""
        raw = self.get_argument(name, None)
        if raw is None or raw == "":
            return default
        value = int(raw) if raw.strip().lstrip("-").isdigit() else None
        if value is None or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}; got {raw!r}")
        return value

    def list_argument(self, name: str) -> list[str]:
        """Values of a repeatable, comma-separated argument (``?ids=a,b&ids=c``)."""
        return [
            part.strip()
            for value in self.get_arguments(name)
            for part in value.split(",")
            if part.strip()
        ]

    def range_argument(self, name: str) -> tuple[float, float] | None:
        """Argument ``name`` as a range of x, ``low,high`` (absent: None, all of it)."""
        raw = self.get_argument(name, None)
        if not raw:
            return None
        try:
            low, high = sorted(float(part) for part in raw.split(","))
        except ValueError:
            low = high = math.nan
        if not low < high:  # (two different numbers, or a ValueError above)
            raise ValueError(f"{name} must be two different numbers, low,high; got {raw!r}")
        return low, high

    def switch_argument(self, name: str) -> bool:
        """Yes/no argument ``name`` (``true``/``1``/``yes``; absent: no)."""
        raw = (self.get_argument(name, "") or "").strip().lower()
        if raw in ("", "0", "false", "no"):
            return False
        if raw in ("1", "true", "yes"):
            return True
        raise ValueError(f"{name} must be true or false; got {raw!r}")


class StoreHandler(NbtrackHandler):
    """``GET /store``: the store's root, whether it exists, its experiments, active runs."""

    @tornado.web.authenticated
    @answering
    async def get(self) -> None:
        self.reply(await self.in_store(lambda a: a.store_summary(), EMPTY_STORE))


class RunsHandler(NbtrackHandler):
    """``GET /runs``: a page of runs, filtered and ordered as ``nbtrack.search`` does."""

    @tornado.web.authenticated
    @answering
    async def get(self) -> None:
        root = self.server_root
        filter = self.get_argument("filter", None)
        names = self.get_arguments("experiment")
        experiment: str | list[str] | None = (names[0] if len(names) == 1 else names) or None
        order_by = [term for value in self.get_arguments("order_by") for term in split_terms(value)]
        limit = self.int_argument("limit", DEFAULT_LIMIT, 0, MAX_LIMIT)
        offset = self.int_argument("offset", 0, 0, 2**62)
        deleted = self.switch_argument("include_deleted")
        answer = await self.in_store(
            lambda a: a.runs(root, filter, experiment, order_by, limit, offset, deleted), EMPTY_RUNS
        )
        self.reply(answer)


class RunHandler(NbtrackHandler):
    """``GET /runs/ID``: everything about one run; ``DELETE /runs/ID`` hides it."""

    @tornado.web.authenticated
    @answering
    async def get(self, run_id: str) -> None:
        root = self.server_root
        self.reply(await self.in_store(lambda a: a.run(root, run_id)))

    @tornado.web.authenticated
    @answering
    async def delete(self, run_id: str) -> None:
        self.reply(await self.in_store(lambda a: a.set_deleted(run_id, True)))


class RestoreHandler(NbtrackHandler):
    """``POST /runs/ID/restore``: undo a delete."""

    @tornado.web.authenticated
    @answering
    async def post(self, run_id: str) -> None:
        self.reply(await self.in_store(lambda a: a.set_deleted(run_id, False)))


class TagsHandler(NbtrackHandler):
    """``GET /runs/ID/tags``: a run's tags; ``POST`` ``{"key": k, "value": v}`` sets one."""

    @tornado.web.authenticated
    @answering
    async def get(self, run_id: str) -> None:
        self.reply(await self.in_store(lambda a: a.tags(run_id)))

    @tornado.web.authenticated
    @answering
    async def post(self, run_id: str) -> None:
        body = self.get_json_body()
        if not isinstance(body, dict) or not isinstance(body.get("key"), str) or not body["key"]:
            raise ValueError('send a JSON body {"key": "name", "value": "text"}')
        key, value = body["key"], body.get("value")
        if value is None or isinstance(value, (dict, list)):
            raise ValueError(f"tag {key!r} needs a text, number or boolean value; got {value!r}")
        self.reply(await self.in_store(lambda a: a.set_tag(run_id, key, value)))


class CurvesHandler(NbtrackHandler):
    """``GET /runs/ID/curves`` and ``GET /curves?ids=a,b``: downsampled metric curves (with
    ``range=low,high``, of that part of the x axis: every point there, up to a bucket each)."""

    @tornado.web.authenticated
    @answering
    async def get(self, run_id: str | None = None) -> None:
        ids = [run_id] if run_id is not None else self.list_argument("ids")
        if not ids:
            raise ValueError("name the runs: /curves?ids=RUN,RUN")
        keys = self.list_argument("keys") + self.get_arguments("key")
        x = self.get_argument("x", "step")
        buckets = self.int_argument("buckets", 800, 1, MAX_BUCKETS)
        shown = self.range_argument("range")
        self.reply(await self.in_store(lambda a: a.curves(ids, keys or None, x, buckets, shown)))


class ViewHandler(NbtrackHandler):
    """``POST /views/KIND`` ``{"runs": [...], "keys": [...], "traits": {...}}``: the state of a
    ``plot`` or ``compare`` view of those runs, with the traits the page changed."""

    @tornado.web.authenticated
    @answering
    async def post(self, kind: str) -> None:
        body = self.get_json_body() or {}
        runs, keys, traits = body.get("runs"), body.get("keys") or [], body.get("traits") or {}
        named = isinstance(runs, list) and runs and all(isinstance(r, str) for r in runs)
        if not named or not isinstance(traits, dict) or not isinstance(keys, list):
            raise ValueError('send a JSON body {"runs": ["ID", ...], "keys": [...], "traits": {}}')
        self.reply(await self.in_store(lambda a: a.view(kind, runs, keys, traits)))


class CellsHandler(NbtrackHandler):
    """``GET /cells?notebook=PATH``: the latest run of each ``%%track`` cell of a notebook."""

    @tornado.web.authenticated
    @answering
    async def get(self) -> None:
        notebook = self.get_argument("notebook", None)
        if not notebook:
            raise ValueError("name the notebook: /cells?notebook=PATH (relative to the root)")
        names = notebook_names(self.server_root, notebook)
        self.reply(await self.in_store(lambda a: a.cells(names), EMPTY_CELLS))


class ArtifactHandler(NbtrackHandler):
    """``GET /runs/ID/artifacts/PATH``: one artifact file, with a content type that is safe to
    open in the browser (see :mod:`nbtrack.server.artifacts`)."""

    @tornado.web.authenticated
    @answering
    async def get(self, run_id: str, path: str) -> None:
        file: Path = await self.in_store(lambda a: a.artifact(run_id, path))
        headers = artifact_headers(file.name)
        for name, value in headers.items():
            self.set_header(name, value)
        loop = asyncio.get_running_loop()
        with open(file, "rb") as f:
            self.set_header("Content-Length", str(file.stat().st_size))
            while chunk := await loop.run_in_executor(None, f.read, CHUNK_BYTES):
                self.write(chunk)
                await self.flush()
        self.finish(set_content_type=headers["Content-Type"])


ROUTES: list[tuple[str, type[NbtrackHandler]]] = [
    (r"/store", StoreHandler),
    (r"/runs", RunsHandler),
    (r"/runs/([^/]+)", RunHandler),
    (r"/runs/([^/]+)/curves", CurvesHandler),
    (r"/runs/([^/]+)/tags", TagsHandler),
    (r"/runs/([^/]+)/restore", RestoreHandler),
    (r"/runs/([^/]+)/artifacts/(.+)", ArtifactHandler),
    (r"/curves", CurvesHandler),
    (r"/cells", CellsHandler),
    (r"/views/(plot|compare)", ViewHandler),
]


def handlers(base_url: str) -> list[tuple[str, type[NbtrackHandler]]]:
    """The API's routes under ``<base_url>nbtrack/api/``.

    >>> handlers("/")[0]
    ('/nbtrack/api/store', <class 'nbtrack.server.handlers.StoreHandler'>)
    """
    return [(url_path_join(base_url, "nbtrack", "api", path), cls) for path, cls in ROUTES]
