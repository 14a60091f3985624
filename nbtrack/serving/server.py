"""Running the scoring app with uvicorn: in a background thread of a notebook, or as a command.

The model is always loaded before the port is bound, so a model that cannot load leaves
nothing listening. The listening socket is bound here, not by uvicorn, so ``port=0`` gives a
free port whose number is known before the first request.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import NbtrackError
from ..extras import optional
from .config import (
    BACKLOG,
    ENV_MAX_BODY,
    ENV_MODEL,
    MAX_BODY_BYTES,
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port); NbtrackError if taken.

    >>> sock = bind("127.0.0.1", 0)
    >>> sock.getsockname()[1] > 0
    True
    >>> sock.close()
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise NbtrackError(f"cannot listen on {host!r}: {err.strerror}; pass an address such as "
                           "127.0.0.1 or 0.0.0.0") from None  # fmt: skip
    family, kind, proto, _, address = infos[0]
    # The protocol must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections
    # only then, and without it each response waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as err:
        sock.close()
        raise NbtrackError(
            f"cannot listen on {host}:{port}: {err.strerror}; pick another port (port=0 or "
            "--port 0 picks a free one)"
        ) from None
    sock.set_inheritable(True)  # worker processes serve on it
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    """``http://host:port`` of a bound socket (brackets around IPv6 addresses)."""
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class Server:
    """A scoring server running in a background thread; see :func:`serve`.

    ``url`` is its address; ``stop()`` (or leaving a ``with`` block) ends it and frees the port.
    """

    def __init__(self, model_uri: str, url: str, server: Any, thread: threading.Thread,
                 sock: socket.socket) -> None:  # fmt: skip
        self.model_uri = model_uri
        self.url = url
        self._server = server
        self._thread = thread
        self._sock = sock
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when started with ``port=0``)."""
        return int(self.url.rsplit(":", 1)[1])

    @property
    def running(self) -> bool:
        """True until :meth:`stop` (or until the server thread ends on its own)."""
        return self._thread.is_alive() and not self._server.should_exit

    def stop(self) -> None:
        """Stop serving and free the port; calling it again does nothing."""
        with self._lock:
            self._server.should_exit = True
            if self._thread.is_alive() and self._thread is not threading.current_thread():
                self._thread.join(STOP_TIMEOUT_S)
            self._sock.close()
            if _RUNNING.get(self.port) is self:
                del _RUNNING[self.port]

    def __enter__(self) -> Server:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:  # fmt: skip
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<nbtrack.serving.Server {self.url} ({state}) model={self.model_uri!r}>"

    def _repr_html_(self) -> str:
        url, uri = html.escape(self.url), html.escape(self.model_uri)
        if not self.running:
            return f"Stopped: served <code>{uri}</code> at {url}"
        return (
            f"Serving <code>{uri}</code> at <a href='{url}/ping' target='_blank'>{url}</a>: "
            f"<code>POST {url}/invocations</code>"
        )


# The servers serve() started and that have not been stopped, by port.
_RUNNING: dict[int, Server] = {}


def serve(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Server:
    """Serve ``model_uri`` over HTTP from a background thread; returns once it answers.

    The endpoints are MLflow's scoring server's (``/ping``, ``/invocations``, ...). ``port=0``
    picks a free port. A model that cannot load raises here and leaves nothing running.
    ``workers`` must be 1 in a notebook (use ``nbtrack serve --workers N`` for more).

    >>> import numpy as np, tempfile, urllib.request
    >>> from sklearn.linear_model import LogisticRegression
    >>> from nbtrack.mlmodel import save_model
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> folder = tempfile.mkdtemp() + "/model"
    >>> info = save_model(LogisticRegression().fit(X, y), folder)
    >>> with serve(folder, port=0) as server:
    ...     body = b'{"inputs": [[0.0], [3.0]]}'
    ...     request = urllib.request.Request(server.url + "/invocations", body,
    ...                                      {"Content-Type": "application/json"})
    ...     urllib.request.urlopen(request).read()
    b'{"predictions": [0, 1]}'
    """
    if workers != 1:
        raise NbtrackError(
            f"serve() runs one worker in this process (got workers={workers}); for more, run "
            f"`nbtrack serve {model_uri} --workers {workers}` in a terminal"
        )
    uvicorn = optional("uvicorn", "serving a model", "serve")
    from .app import create_app, load

    earlier = _RUNNING.get(port)
    if earlier is not None and earlier.running:  # a notebook cell run twice, most often
        raise NbtrackError(
            f"port {port} is taken by a server started here, serving {earlier.model_uri} at "
            f"{earlier.url}: stop it first (.stop(), or nbtrack.serving.stop_all()), or pass port=0"
        )
    app = create_app(load(model_uri), max_body_bytes=max_body_bytes)
    sock = bind(host, port)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"nbtrack-serve-{port}", daemon=True
    )
    thread.start()
    handle = Server(model_uri, url_of(sock, host), server, thread, sock)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.002)  # uvicorn has no start callback; it starts within milliseconds
    if not server.started:
        handle.stop()
        raise NbtrackError(f"the server for {model_uri} did not start; see the log above")
    _RUNNING[handle.port] = handle
    return handle


def stop_all() -> None:
    """Stop every server :func:`serve` started in this process."""
    for server in list(_RUNNING.values()):
        server.stop()


def main(
    model_uri: str,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> int:
    """``nbtrack serve MODEL_URI``: serve until interrupted; the exit code (1: cannot serve).

    Prints ``Serving MODEL_URI at URL`` on stdout once listening (the port chosen if 0).
    """
    import sys

    from .app import create_app, load

    try:
        uvicorn = optional("uvicorn", "nbtrack serve", "serve")
        if workers < 1:
            raise NbtrackError(f"--workers must be 1 or more, got {workers}")
        app = create_app(load(model_uri), max_body_bytes=max_body_bytes)
        sock = bind(host, port)
    except NbtrackError as err:
        print(f"nbtrack serve: error: {err}", file=sys.stderr)
        return 1
    logging.basicConfig(format="%(levelname)s: %(name)s: %(message)s")
    print(f"Serving {model_uri} at {url_of(sock, host)} (Ctrl+C to stop)", flush=True)
    common = {"access_log": False, "lifespan": "off", "log_level": "warning"}
    # uvicorn shuts down on Ctrl+C, then raises it again: that is the normal end here.
    with sock, contextlib.suppress(KeyboardInterrupt):
        if workers == 1:
            uvicorn.Server(uvicorn.Config(app, **common)).run(sockets=[sock])
            return 0
        # Each worker loads the folder resolved here (this process's copy is only the check
        # that it loads), so an alias moved meanwhile cannot make workers serve different
        # versions.
        del app
        os.environ[ENV_MODEL] = str(_folder(model_uri))
        os.environ[ENV_MAX_BODY] = str(max_body_bytes)
        config = uvicorn.Config("nbtrack.serving.app:app_from_env", factory=True, workers=workers,
                                host=host, port=port, **common)  # fmt: skip
        supervisors = optional("uvicorn.supervisors", "nbtrack serve --workers", "serve")
        supervisors.Multiprocess(config, sockets=[sock]).run()
    return 0


def _folder(model_uri: str) -> Path | str:
    """The model folder ``model_uri`` resolves to (the URI itself if it cannot be located)."""
    from ..mlmodel import locate

    try:
        return locate(model_uri).path
    except NbtrackError:
        return model_uri
