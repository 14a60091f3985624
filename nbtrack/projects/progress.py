"""The line that shows how far a launched notebook has got: ``cell 3 of 10``.

In a notebook it is one output updated in place; in a terminal one line rewritten in place;
elsewhere (a log file, CI) nothing, since the run records the outcome.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from .. import kernel


class Progress:
    """Progress of one launched notebook, labelled ``label``, with ``total`` code cells."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.started = time.monotonic()
        self._handle: Any = None
        self._terminal = False
        shell = kernel.shell()
        if shell is not None:
            from IPython.display import display

            self._handle = display({"text/plain": self._text(0, "")}, raw=True, display_id=True)
        else:
            self._terminal = sys.stderr.isatty()

    def update(self, cell: int, source: str) -> None:
        """Cell number ``cell`` (1-based, of the code cells) starts; ``source`` is its code."""
        first = next((line.strip() for line in source.splitlines() if line.strip()), "")
        self._show(self._text(cell, first[:60]))

    def close(self, status: str) -> None:
        """The notebook ended with ``status``."""
        elapsed = time.monotonic() - self.started
        self._show(f"{self.label}: {status} after {elapsed:.1f} s", end=True)

    def _text(self, cell: int, first: str) -> str:
        elapsed = time.monotonic() - self.started
        text = f"{self.label}: cell {cell} of {self.total} ({elapsed:.0f} s)"
        return f"{text}  {first}" if first else text

    def _show(self, text: str, end: bool = False) -> None:
        if self._handle is not None:
            from IPython.display import DisplayHandle

            if isinstance(self._handle, DisplayHandle):
                self._handle.update({"text/plain": text}, raw=True)
        elif self._terminal:
            sys.stderr.write(f"\r\x1b[K{text}" + ("\n" if end else ""))
            sys.stderr.flush()
