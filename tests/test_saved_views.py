"""What a saved notebook keeps of a widget, in real kernels: beside the live view, a static twin
holding the image the browser sends back (the kernel renders nothing while a browser draws),
or, where no browser draws (nbclient), an image the kernel renders when the cell ends. The
browser's side is in test_e2e_jupyterlab.py."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel
from kernels import errors, run_cells, text

from nbtrack.widgets.saved import HIDDEN_VIEW, WIDGET_VIEW

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SWEEP = (
    "import nbtrack\n"
    "for i in range(4):\n"
    "    with nbtrack.run(name=f'r{i}', experiment='e') as r:\n"
    "        r.log_params({'lr': 10.0 ** -i, 'depth': i % 2})\n"
    "        for s in range(30):\n"
    "            r.log(loss=1 / (s + 1 + i), acc=i / 4)\n"
    "ids = list(nbtrack.search(experiment='e')['run_id'])"
)


def shown(cell: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A widget cell's two outputs: the live view, and its static twin (a hidden view)."""
    live, twin = [o for o in cell.outputs if o.output_type == "display_data"]
    assert live.data[WIDGET_VIEW]["model_id"] and twin.data[WIDGET_VIEW] == HIDDEN_VIEW
    return live, twin


def test_without_a_browser_the_kernel_renders_the_saved_images_when_the_cell_ends(
    tmp_store: Path, tmp_path: Path
) -> None:
    cells = run_cells(
        [SWEEP, "nbtrack.plot('loss', runs=ids, log_y=True)",
         "nbtrack.compare(experiment='e', metric='acc')", "nbtrack.table(experiment='e')",
         "import sys\nprint('altair' in sys.modules)"],
        tmp_store, tmp_path,
    )  # fmt: skip
    assert not any(errors(c) for c in cells), [text(c) for c in cells]
    plot, sweep, table = (shown(c)[1] for c in cells[1:4])
    assert text(cells[4]).strip() == "False"  # (rendered from Vega: Altair takes seconds)
    assert base64.b64decode(plot.data["image/png"]).startswith(PNG[:8])
    # the compare shows its image inside its HTML (a viewer shows one of the two only)
    image = re.search(r'<img src="data:image/png;base64,([^"]+)"', sweep.data["text/html"])
    assert image and base64.b64decode(image.group(1)).startswith(PNG[:8])
    assert "image/png" not in sweep.data and "<th>lr</th>" in sweep.data["text/html"]
    assert "<table>" in table.data["text/html"] and "r3" in table.data["text/html"]


@pytest.fixture
def kernel(tmp_store: Path, tmp_path: Path):
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path),
                              env={"NBTRACK_STORE": str(tmp_store)})  # fmt: skip
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def execute(kc: Any, code: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """Run ``code`` as JupyterLab sends it (with ``metadata``); the IOPub messages it caused."""
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False,
                                             "stop_on_error": True}, metadata=metadata)  # fmt: skip
    kc.shell_channel.send(msg)
    messages = []
    while True:
        reply = kc.get_iopub_msg(timeout=60)
        if reply["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        messages.append(reply)
        if reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle":
            return messages


def test_in_a_browser_the_kernel_renders_nothing_and_keeps_the_browsers_image(kernel) -> None:
    browser = {"deletedCells": [], "recordTiming": False, "cellId": "c1"}  # as JupyterLab sends
    assert not [m for m in execute(kernel, SWEEP, browser) if m["msg_type"] == "error"]
    messages = execute(kernel, "nbtrack.plot('loss', runs=ids)", browser)
    assert not [m for m in messages if m["msg_type"] == "error"], messages
    live, twin = [m["content"] for m in messages if m["msg_type"] == "display_data"]
    assert twin["data"] == {WIDGET_VIEW: HIDDEN_VIEW}  # nothing rendered on the cell's path
    display_id = twin["transient"]["display_id"]
    model_id = live["data"][WIDGET_VIEW]["model_id"]
    # the browser's image comes back as a custom widget message with the PNG as its buffer
    snapshot = {"method": "custom", "content": {"type": "snapshot", "width": 300, "height": 120}}
    message = kernel.session.msg("comm_msg", {"comm_id": model_id, "data": snapshot})
    kernel.session.send(kernel.shell_channel.socket, message, buffers=[PNG])
    while True:
        update = kernel.get_iopub_msg(timeout=60)
        if update["msg_type"] == "update_display_data":
            break
    content = update["content"]
    assert content["transient"]["display_id"] == display_id
    assert base64.b64decode(content["data"]["image/png"]) == PNG
    assert content["metadata"]["image/png"] == {"width": 300, "height": 120}
    assert content["data"][WIDGET_VIEW] == HIDDEN_VIEW  # the live view is left alone
