"""Serving a model over HTTP with MLflow's scoring protocol (the ``serve`` extra).

In a notebook, ``nbtrack.serve(uri, port=0)`` starts a server in a background thread and
returns a :class:`Server` with ``.url`` and ``.stop()``; in a terminal,
``nbtrack serve MODEL_URI [--host H] [--port P] [--workers N]`` (also
``python -m nbtrack.serving``). Endpoints: ``GET /ping``, ``/health``, ``/version``,
``POST /invocations``.
"""

from __future__ import annotations

from .server import Server, main, serve, stop_all

__all__ = ["Server", "main", "serve", "stop_all"]
