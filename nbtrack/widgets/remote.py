"""The widgets' state for a front end without a kernel: the JupyterLab extension's pages draw
a plot or a comparison with the widgets' own front-end code, from this state served over HTTP.

A view is built here as in a kernel, without its live thread; its synced traits become JSON
(binary ones base64, named in ``_binary``), less the front-end code and ipywidgets' own
bookkeeping. A change the page makes (brushing a sweep selects runs, another metric) comes back
as ``traits`` and the view is built again with them.

>>> import nbtrack, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> for depth in (1, 2):
...     with nbtrack.run(f"r{depth}", params={"depth": depth}) as run:
...         run.log(loss=1 / depth)
>>> state = view_state("compare", list(nbtrack.search()["run_id"]))
>>> state["_view"], len(state["_content"]["runs"]), "_esm" in state, state["_binary"]
('compare', 2, False, ['_data', '_sweep'])
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

KINDS = ("plot", "compare")
# What a page may change and send back, by view.
CHANGEABLE = {
    "plot": ("x", "smoothing", "log_y", "x_range"),
    "compare": ("selected", "metric", "param", "axes", "only_differences", "x", "smoothing",
                "log_y", "x_range"),
}  # fmt: skip
_LEFT_OUT = {"_esm", "_css", "_anywidget_id", "_dom_classes", "layout", "tabbable", "tooltip",
             "_view_count"}  # fmt: skip


def view_state(
    kind: str,
    run_ids: Sequence[str],
    keys: Sequence[str] = (),
    traits: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The state of a ``kind`` view (``plot`` of ``keys``, or ``compare``) of ``run_ids``,
    with ``traits`` the page changed; a trait a view does not take is a ValueError."""
    traits = dict(traits or {})
    if kind not in KINDS:
        raise ValueError(f"no {kind!r} view; views are {', '.join(KINDS)}")
    unknown = set(traits) - set(CHANGEABLE[kind])
    if unknown:
        raise ValueError(f"a {kind} view cannot change {', '.join(sorted(unknown))}")
    if kind == "plot":
        from .metric_plot import MetricPlot

        if not keys:
            raise ValueError("a plot needs metric keys, e.g. keys=loss,acc")
        curve = {k: traits.pop(k) for k in CHANGEABLE["plot"] if k in traits}
        widget: Any = MetricPlot(list(keys), list(run_ids), live=False, **curve)
    else:
        from .comparison import Compare

        widget = Compare(*run_ids, live=False)
        with widget.hold_sync():
            for name, value in traits.items():
                setattr(widget, name, value)
    try:
        return _json_state(widget.get_state())
    finally:
        widget.close()


def _json_state(state: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"_binary": []}
    for name, value in state.items():
        if name in _LEFT_OUT:
            continue
        if isinstance(value, (bytes, bytearray, memoryview)):
            out[name] = base64.b64encode(bytes(value)).decode("ascii")
            out["_binary"].append(name)
        else:
            out[name] = value
    return out
