"""The public surface: exactly the documented names, and a light import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import run_python, wait_for
from jupyter_client.manager import start_new_kernel

import nbtrack

DOCUMENTED = {
    # DESIGN section 3: tracking
    "set_store", "set_experiment", "run", "Run", "start_run", "end_run", "active_run", "log",
    "log_metric", "log_metrics", "log_param", "log_params", "set_tag", "set_tags",
    "log_artifact", "log_input", "flush", "TOP_LEVEL",
    # DESIGN section 4: query
    "search", "get_run", "RunRecord", "history", "sql", "delete_run", "restore_run",
    # cell lineage (the magics issue)
    "cell_runs", "diff", "RunDiff",
    # DESIGN section 6: widgets
    "table", "plot", "compare",
    # %load_ext nbtrack
    "load_ipython_extension", "unload_ipython_extension",
    # store maintenance and exchange
    "compact", "export", "import_runs", "import_mlflow", "sync",
    # moving in from other trackers
    "import_tensorboard", "import_wandb", "import_trackio", "import_csv", "export_mlflow",
    # autologging
    "autolog",
    # notebooks and scripts as runs, sweeps
    "run_notebook", "params", "sweep", "ProjectError", "RunFailedError", "SweepError",
    "TrialPruned",
    # models, the registry and serving
    "save_model", "log_model", "load_model", "ModelInfo", "pyfunc", "models", "serve",
    "register_model", "create_registered_model", "get_registered_model", "get_model_version",
    "get_model_version_by_alias", "get_latest_versions", "set_alias", "delete_alias",
    "transition_stage", "set_model_tag", "delete_model_tag", "update_description",
    "delete_model_version", "delete_registered_model", "search_registered_models",
    "search_model_versions", "ModelVersion", "RegisteredModel",
    # errors and warnings
    "ModelNotFoundError", "ModelSignatureError", "RegistryError",
    "NbtrackError", "StoreError", "RunNotFoundError", "InactiveRunError", "FilterError",
    "NbtrackWarning", "StoreWarning",
    "__version__",
}  # fmt: skip


def test_exports_are_exactly_the_documented_names() -> None:
    assert set(nbtrack.__all__) == DOCUMENTED
    # (its order is ruff's RUF022: constants, classes, then functions, each sorted)
    for name in nbtrack.__all__:
        assert getattr(nbtrack, name) is not None


def test_import_is_light() -> None:
    code = (
        "import sys, nbtrack\n"
        "heavy = {'duckdb', 'pandas', 'pyarrow', 'numpy', 'IPython'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def evaluate(client: Any, expression: str) -> str:
    """``expression`` evaluated in a kernel by a silent request, which runs no cell (no
    ``pre_run_cell`` event: for the kernel, the user is still writing the next one)."""
    msg_id = client.execute("", silent=True, user_expressions={"value": expression})
    while True:
        reply = client.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"]["user_expressions"]["value"]["data"]["text/plain"]


@pytest.mark.parametrize("setting", ["", "0"])
def test_between_cells_a_kernel_imports_what_widgets_need(
    tmp_store: Path, tmp_path: Path, setting: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env.update(NBTRACK_STORE=str(tmp_store), NBTRACK_WARM_UP=setting)
    km, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path), env=env)
    try:
        client.execute_interactive("import sys, nbtrack", timeout=60)
        hooks = "[f.__name__ for f in get_ipython().events.callbacks['pre_run_cell']]"
        imported = "sorted(m for m in nbtrack.kernel.WIDGET_DEPENDENCIES if m in sys.modules)"
        if setting == "0":
            assert "warm_up_until_cell" not in evaluate(client, hooks)
            assert evaluate(client, imported) == "[]"
            return
        assert "warm_up_until_cell" in evaluate(client, hooks)  # (the next cell stops it)
        wait_for(lambda: evaluate(client, imported) == "['anywidget', 'duckdb', 'numpy']",
                 "the widgets' dependencies to be imported between cells")  # fmt: skip
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)


# What a widget shown first in a new kernel may not import: the other widgets' modules, and what
# only they need. A chart renderer (Altair, vl-convert) is never imported to show a widget.
OTHER_WIDGETS = {
    "table": {
        "nbtrack.widgets.comparison", "nbtrack.widgets.metric_plot", "nbtrack.widgets.registry",
        "nbtrack.widgets.curves", "nbtrack.widgets.sweep", "nbtrack.widgets.correlation",
        "nbtrack.charts", "numpy", "pandas", "pyarrow", "altair", "vl_convert",
    },
    "plot": {
        "nbtrack.widgets.comparison", "nbtrack.widgets.registry", "nbtrack.widgets.sweep",
        "nbtrack.widgets.correlation", "pandas", "pyarrow", "altair", "vl_convert",
    },
    "compare": {
        "nbtrack.widgets.metric_plot", "nbtrack.widgets.registry", "pandas", "pyarrow", "altair",
        "vl_convert",
    },
}  # fmt: skip
SHOW = {
    "table": "nbtrack.table()",
    "plot": "nbtrack.plot('loss', runs=ids)",
    "compare": "nbtrack.compare(*ids)",
}
MODULE = {
    "table": "nbtrack.widgets.run_table",
    "plot": "nbtrack.widgets.metric_plot",
    "compare": "nbtrack.widgets.comparison",
}


@pytest.mark.parametrize("widget", ["table", "plot", "compare"])
def test_a_widget_shown_first_imports_only_what_it_needs(
    widget: str, tmp_store: Path, tmp_path: Path
) -> None:
    ids = []
    for k in range(3):
        with nbtrack.run(f"run-{k}", params={"lr": k / 10}) as run:
            run.log(loss=1 / (k + 1))
        ids.append(run.id)
    code = f"""
        import json, os, sys
        os.environ["IPYTHONDIR"] = {str(tmp_path / "ipython")!r}
        from IPython.core.interactiveshell import InteractiveShell

        shown = []  # what the kernel would send: the live view, then its saved twin
        InteractiveShell.instance().display_pub.publish = (
            lambda data, metadata=None, **kw: shown.append(sorted(data)))
        import nbtrack
        ids = {ids[:2]!r}
        widget = {SHOW[widget]}
        widget._ipython_display_()
        watched = {sorted(OTHER_WIDGETS[widget] | {MODULE[widget]})!r}
        print(json.dumps({{"shown": shown, "loaded": [m for m in watched if m in sys.modules]}}))
    """
    out = json.loads(run_python(code, tmp_store, tmp_path).splitlines()[-1])
    assert out["shown"][0] == ["application/vnd.jupyter.widget-view+json", "text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in out["shown"][1]
    assert out["loaded"] == [MODULE[widget]]


def test_the_widget_package_serves_its_classes_from_their_modules() -> None:
    import nbtrack.widgets as widgets
    from nbtrack.widgets import comparison, metric_plot, registry, run_table

    assert widgets.__all__ == [
        "Compare", "MetricPlot", "ModelRegistry", "RunTable", "compare", "models", "plot", "table",
    ]  # fmt: skip
    assert widgets.RunTable is run_table.RunTable and widgets.Compare is comparison.Compare
    assert widgets.MetricPlot is metric_plot.MetricPlot
    assert widgets.ModelRegistry is registry.ModelRegistry
    # the functions keep their names although the modules are imported: nothing shadows them
    assert (nbtrack.table, nbtrack.plot, nbtrack.compare, nbtrack.models) == (
        widgets.table, widgets.plot, widgets.compare, widgets.models)  # fmt: skip
    assert all(callable(f) and f.__module__ == "nbtrack.widgets"
               for f in (widgets.table, widgets.plot, widgets.compare, widgets.models))  # fmt: skip
    assert set(widgets.__all__) <= set(dir(widgets))
    with pytest.raises(AttributeError, match="no attribute 'Table'"):
        widgets.Table  # noqa: B018
