"""What a notebook keeps of a widget: an image and/or an HTML table that nbconvert, GitHub and
nbviewer show without a kernel. None of it is drawn on the cell's path.

A widget displays as two outputs: the live view, and its static twin. The twin carries a widget
view with no model, which JupyterLab and Notebook 7 hide (and nbconvert skips for the image or
HTML beside it), and a display id: the browser that draws a chart sends back a PNG of what is on
screen, after its first draw and again after the user changes the view, and Python writes it
into the twin with ``update_display``. So the saved notebook shows what the user last saw
(brushes, zoom, smoothing), the live view is never redrawn for it, and the kernel never runs a
chart renderer. Where no browser draws widgets (nbclient, papermill, a console), the kernel
renders a bounded image itself when the cell ends, so that the notebook those tools save still
holds one.

The message a front end sends (see js/src/snapshot.ts)::

    {"type": "snapshot", "width": css_px, "height": css_px}   + one buffer: the PNG
"""

from __future__ import annotations

import base64
import threading
import uuid
import warnings
import weakref
from dataclasses import dataclass
from typing import Any

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A widget view without a model: JupyterLab and Notebook 7 hide the output that holds it.
HIDDEN_VIEW = {"model_id": "", "version_major": 2, "version_minor": 0}

_heard_from_browser = False
_pending: weakref.WeakSet[Any] = weakref.WeakSet()
_pending_lock = threading.Lock()
_hooked_shells: weakref.WeakSet[Any] = weakref.WeakSet()


@dataclass(frozen=True)
class Image:
    """A PNG and the size (CSS pixels; 0 when unknown) it is shown at."""

    png: bytes
    width: int = 0
    height: int = 0

    def metadata(self) -> dict[str, int]:
        return {k: v for k, v in (("width", self.width), ("height", self.height)) if v}

    def img_tag(self) -> str:
        size = "".join(f' {k}="{v}"' for k, v in self.metadata().items())
        data = base64.b64encode(self.png).decode()
        return f'<img src="data:image/png;base64,{data}"{size} alt="chart">'


def browser_draws() -> bool:
    """Whether a browser draws this kernel's widgets (and will send their images back):
    JupyterLab and Notebook 7 (their execute requests carry ``recordTiming``), VS Code (it sets
    ``__vsc_ipynb_file__``), or any front end that already sent an nbtrack widget's image."""
    if _heard_from_browser:
        return True
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return False
    if "__vsc_ipynb_file__" in shell.user_ns:
        return True
    get_parent = getattr(getattr(shell, "kernel", None), "get_parent", None)
    parent = get_parent("shell") if get_parent is not None else None
    return "recordTiming" in ((parent or {}).get("metadata") or {})


class SavedView:
    """Mixin for a widget class (before ``anywidget.AnyWidget`` in its bases): displays it
    with its static twin and keeps the twin up to date. Subclasses say what to keep:
    :meth:`saved_html` (cheap, made in the kernel) and, for charts, :meth:`kernel_image` (only
    used where no browser sends an image)."""

    _display_id: str | None = None
    _image: Image | None = None
    _listening = False

    def saved_html(self) -> str | None:
        """HTML for the saved output (None: none)."""
        return None

    def kernel_image(self) -> bytes | None:
        """A PNG rendered in the kernel, bounded in size (None: none)."""
        return None

    # ---- displaying ---------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._listen()
        if self._display_id is None:
            self._display_id = uuid.uuid4().hex
        view = super()._repr_mimebundle_()  # type: ignore[misc]
        data, metadata = view if isinstance(view, tuple) else (view, None)
        display(data, raw=True, metadata=metadata)
        data, metadata = self.saved_bundle()
        display(data, raw=True, metadata=metadata, display_id=self._display_id)
        if type(self).kernel_image is not SavedView.kernel_image and not browser_draws():
            _render_at_cell_end(self)

    def saved_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The static twin's output: a hidden widget view, and the image and HTML that show
        without a kernel (the image inside the HTML when there is HTML, since a viewer shows
        only one of them)."""
        data: dict[str, Any] = {WIDGET_VIEW: HIDDEN_VIEW}
        metadata: dict[str, Any] = {}
        text = self.saved_html()
        image = self._image
        if text is not None:
            data["text/html"] = (image.img_tag() if image else "") + text
        elif image is not None:
            data["image/png"] = base64.b64encode(image.png).decode()
            if image.metadata():
                metadata["image/png"] = image.metadata()
        return data, metadata

    def update_saved(self) -> None:
        """Write the current static view into the outputs that show this widget's twin."""
        if self._display_id is None:
            return
        from IPython.display import update_display

        data, metadata = self.saved_bundle()
        update_display(data, raw=True, metadata=metadata, display_id=self._display_id)

    # ---- images -----------------------------------------------------------------------------
    def _listen(self) -> None:
        if not self._listening:
            self._listening = True
            self.on_msg(self._on_snapshot)  # type: ignore[attr-defined]

    def _on_snapshot(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "snapshot" or not buffers:
            return
        global _heard_from_browser
        _heard_from_browser = True
        png = bytes(buffers[0])
        if not png.startswith(PNG_MAGIC):
            return
        image = Image(png, int(content.get("width") or 0), int(content.get("height") or 0))
        if image != self._image:
            self._image = image
            self.update_saved()

    def render_in_kernel(self) -> None:
        """Render the kernel's image when no browser sent one, and write it into the output."""
        if self._image is not None:
            return
        png = self.kernel_image()
        if png:
            self._image = Image(png)
            self.update_saved()


def _render_at_cell_end(widget: SavedView) -> None:
    """Have the kernel render ``widget``'s image when the running cell ends."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    with _pending_lock:
        _pending.add(widget)
        if shell not in _hooked_shells:
            _hooked_shells.add(shell)
            shell.events.register("post_run_cell", _render_pending)


def _render_pending(_result: Any = None) -> None:
    with _pending_lock:
        widgets = list(_pending)
        _pending.clear()
    for widget in widgets:
        try:
            widget.render_in_kernel()
        except Exception as err:  # a saved image is never worth a lost cell
            warnings.warn(f"nbtrack could not draw the saved image of a widget: {err}",
                          stacklevel=1)  # fmt: skip
