"""nbtrack's Jupyter server extension: runs, curves and artifacts over the Jupyter server's own
port and login, answered from the store by DuckDB in the server process (no kernel needed).

Installed with nbtrack and enabled by ``jupyter_server_config.d/nbtrack.json``. Every route
takes ``?notebook=PATH`` (the store next to that notebook) or ``?store=PATH`` to choose the
store (see :mod:`nbtrack.server.stores`); answers are JSON, errors ``{"error": ...}``::

    GET    /nbtrack/api/store              root, exists, experiments, active (runs running)
    GET    /nbtrack/api/runs               a page of runs, filtered, ordered and paged like search
    GET    /nbtrack/api/runs/ID            one run: values, artifacts, context, lineage and diff
    GET    /nbtrack/api/runs/ID/curves     its metric curves, downsampled: keys, x, buckets, range
    GET    /nbtrack/api/curves?ids=A,B     the curves of several runs, to compare them
    GET    /nbtrack/api/runs/ID/artifacts/PATH   one artifact file, with a safe content type
    GET    /nbtrack/api/cells?notebook=P   the latest run of each %%track cell of a notebook
    GET    /nbtrack/api/runs/ID/tags       a run's tags
    POST   /nbtrack/api/runs/ID/tags       set one: {"key": k, "value": v}
    DELETE /nbtrack/api/runs/ID            delete (hide) a run
    POST   /nbtrack/api/runs/ID/restore    restore a deleted run
    POST   /nbtrack/api/views/KIND         a plot's or a comparison's state, for the lab pages
    GET    /nbtrack/static/NAME            the widgets' front-end bundles (charts.js, …)
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Where Jupyter finds the extension.

    >>> _jupyter_server_extension_points()
    [{'module': 'nbtrack.server'}]
    """
    return [{"module": "nbtrack.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the handlers under ``<base_url>nbtrack/api/``, and the widgets' front-end
    bundles (public code, like Jupyter's own static files) under ``<base_url>nbtrack/static/``:
    the lab extension's pages draw plots and comparisons with them."""
    from pathlib import Path

    from jupyter_server.base.handlers import FileFindHandler
    from jupyter_server.utils import url_path_join

    from .handlers import handlers

    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    bundles = str(Path(__file__).resolve().parent.parent / "static")
    static = (url_path_join(base_url, "nbtrack", "static", "(.*)"), FileFindHandler,
              {"path": [bundles]})  # fmt: skip
    web_app.add_handlers(".*$", [*handlers(base_url), static])
    serverapp.log.info("nbtrack: run browser API at %snbtrack/api/", web_app.settings["base_url"])
