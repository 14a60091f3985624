"""``--live``: a line under the cell showing the latest metric values while it runs."""

from __future__ import annotations

import contextlib
import threading

from ..tracking import Run

# Often enough to feel live, rare enough to cost nothing next to the cell's own work.
REFRESH_S = 0.5


class LiveLine:
    """Updates a display handle with the latest values of ``keys`` until stopped."""

    def __init__(self, run: Run, keys: list[str]) -> None:
        from IPython.display import display

        self.run = run
        self.keys = keys
        self._last: dict[str, tuple[int, float]] = {}
        self._stop = threading.Event()
        self._handle = display(_Text(self._text()), display_id=True)
        self._thread = threading.Thread(target=self._loop, name="nbtrack-live", daemon=True)
        self._thread.start()

    def _text(self) -> str:
        for key in self.keys:
            series = self.run._series.get(key)
            if series is not None and series.values:
                # the writer may drain the list between the check and the read
                with contextlib.suppress(IndexError):
                    self._last[key] = (series.next_step - 1, series.values[-1])
        parts = [
            f"{k}={self._last[k][1]:.6g} (step {self._last[k][0]})" if k in self._last else f"{k}=…"
            for k in self.keys
        ]
        return f"{self.run.name} [{self.run.status}]  " + "  ".join(parts)

    def _loop(self) -> None:
        while not self._stop.wait(REFRESH_S):
            self._update()

    def _update(self) -> None:
        if self._handle is not None:
            self._handle.update(_Text(self._text()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._update()


class _Text:
    """Plain text for display (a ``str`` would show with quotes)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.text)

    def __repr__(self) -> str:
        return self.text
