"""The Jupyter server extension (nbtrack.server): its REST API, served by a real Jupyter server
from real stores."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import script_env, wait_for, write_script
from tornado.httpclient import HTTPClientError

import nbtrack
from nbtrack.config import using_store

pytest_plugins = ["pytest_jupyter.jupyter_server"]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
HTML = "<html><script>fetch('/api/contents')</script></html>"


@dataclass
class Workspace:
    """A server root with two notebooks, each in a folder with its own store."""

    root: Path
    store_a: Path
    store_b: Path
    secret: Path
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def notebook_a(self) -> str:
        return "proj-a/train.ipynb"

    @property
    def notebook_b(self) -> str:
        return "proj-b/sub/deep/eval.ipynb"


def _cell_run(notebook: Path, cell: str, name: str, code: str, lr: float, acc: float) -> str:
    """A run as ``%%track`` records it: with its notebook, cell id and source."""
    context = {"notebook": str(notebook), "cell_id": cell, "code": code}
    run = nbtrack.start_run(name, experiment="nb", params={"lr": lr}, context=context)
    run.log(acc=acc)
    nbtrack.end_run()
    return run.id


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    base = tmp_path_factory.mktemp("server")
    root = base / "root"
    secret = base / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for the browser")
    (root / "proj-a").mkdir(parents=True)
    (root / "proj-b" / "sub" / "deep").mkdir(parents=True)
    ws = Workspace(root, root / "proj-a" / ".nbtrack", root / "proj-b" / "sub" / ".nbtrack", secret)
    for notebook in (ws.notebook_a, ws.notebook_b):
        (root / notebook).write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5}')
    files = base / "files"
    (files / "sub").mkdir(parents=True)
    (files / "plot.png").write_bytes(PNG)
    (files / "report.html").write_text(HTML)
    (files / "sub" / "data.csv").write_text("a,b\n1,2\n")
    ids = ws.ids
    with using_store(ws.store_a):
        with nbtrack.run(
            "base", experiment="exp", params={"lr": 0.1, "layers": [64, 64]}, tags={"model": "rf"}
        ) as run:
            for step in range(100):
                run.log(loss=1 / (step + 1), acc=step / 100)
            run.log_artifact(files / "plot.png")
            run.log_artifact(files / "report.html")
            run.log_artifact(files / "sub", name="tables")
        ids["base"] = run.id
        for name, lr, acc in (("second", 0.01, 0.95), ("third", 0.001, 0.9)):
            with nbtrack.run(name, experiment="exp", params={"lr": lr}) as run:
                run.log(acc=acc)
            ids[name] = run.id
        with (
            nbtrack.run("sweep", experiment="other") as sweep,
            nbtrack.run("trial-1", experiment="other", params={"lr": 0.5}) as trial,
        ):
            trial.log(acc=0.5)
        ids["sweep"], ids["trial"] = sweep.id, trial.id
        notebook = root / ws.notebook_a
        ids["c1-v1"] = _cell_run(notebook, "c1", "fit", "lr = 0.1\nfit(lr)\n", 0.1, 0.8)
        ids["c1-v2"] = _cell_run(notebook, "c1", "fit", "lr = 0.2\nfit(lr)\n", 0.2, 0.85)
        ids["c2"] = _cell_run(notebook, "c2", "score", "score()\n", 0.3, 0.7)
    with using_store(ws.store_b), nbtrack.run("b-run", experiment="bexp") as run:
        run.log(f1=0.5)
    ids["b"] = run.id
    nbtrack.flush()
    # a symlink planted among the artifacts, leading out of the store
    (ws.store_a / "artifacts" / ids["base"] / "leak.txt").symlink_to(secret)
    return ws


@pytest.fixture
def jp_root_dir(workspace: Workspace) -> Path:
    return workspace.root


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"nbtrack.server": True}}}


@pytest.fixture
def api(jp_fetch, jp_asyncio_loop, monkeypatch: pytest.MonkeyPatch):
    """``api("runs", expect=200, **query)``: a request to /nbtrack/api/..., its JSON answer."""
    monkeypatch.delenv("NBTRACK_STORE", raising=False)

    def call(
        *parts: str,
        method: str = "GET",
        body: Any = None,
        expect: int = 200,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> Any:
        options: dict[str, Any] = {"method": method, "headers": headers}
        if method == "POST":
            options["body"] = json.dumps(body) if body is not None else ""
        try:
            response = jp_asyncio_loop.run_until_complete(
                jp_fetch("nbtrack", "api", *parts, params=params, **options)
            )
        except HTTPClientError as err:
            response = err.response
        assert response.code == expect, response.body
        call.last = response
        return json.loads(response.body) if "json" in response.headers["Content-Type"] else None

    return call


@pytest.fixture
def raw(http_server_client, jp_asyncio_loop, jp_base_url, jp_auth_header):
    """``raw(path, headers=...)``: a request sent exactly as written (no escaping); the
    response."""

    def fetch(path: str, headers: dict[str, str] | None = None, **options: Any):
        url = jp_base_url + "nbtrack/api/" + path
        return jp_asyncio_loop.run_until_complete(
            http_server_client.fetch(
                url,
                headers=jp_auth_header if headers is None else headers,
                raise_error=False,
                **options,
            )
        )

    return fetch


# ---- the store ------------------------------------------------------------------------------
def test_store_next_to_the_notebook_lists_its_experiments(api, workspace: Workspace) -> None:
    found = api("store", notebook=workspace.notebook_a)
    assert found["root"] == str(workspace.store_a) and found["exists"] is True
    by_name = {e["name"]: e for e in found["experiments"]}
    assert set(by_name) == {"exp", "other", "nb"}
    assert (by_name["exp"]["runs"], by_name["other"]["runs"], by_name["nb"]["runs"]) == (3, 2, 3)
    assert by_name["exp"]["running"] == 0 and found["active"] == 0
    datetime.fromisoformat(by_name["exp"]["last_start"])


def test_a_store_that_does_not_exist_answers_empty(
    api, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = api("store")  # no notebook, no $NBTRACK_STORE: <root>/.nbtrack, not made yet
    assert found == {
        "root": str(workspace.root / ".nbtrack"),
        "exists": False,
        "experiments": [],
        "active": 0,
    }
    assert not (workspace.root / ".nbtrack").exists()
    monkeypatch.setenv("NBTRACK_STORE", str(tmp_path / "env-store"))
    runs, env_store = api("runs"), str(tmp_path / "env-store")
    assert (runs["root"], runs["exists"], runs["runs"], runs["total"]) == (env_store, False, [], 0)
    assert api("cells", notebook="new.ipynb")["cells"] == {}
    assert "no nbtrack store" in api("runs", workspace.ids["base"], expect=404)["error"]
    assert not (tmp_path / "env-store").exists()


def test_two_notebooks_in_different_folders_read_their_own_stores(
    api, workspace: Workspace
) -> None:
    a = api("runs", notebook=workspace.notebook_a, limit=100)
    b = api("runs", notebook=workspace.notebook_b)
    assert b["root"] == str(workspace.store_b)  # found two folders up from the notebook
    assert [r["run_id"] for r in b["runs"]] == [workspace.ids["b"]]
    assert workspace.ids["b"] not in {r["run_id"] for r in a["runs"]}
    assert a["total"] == 8
    assert api("runs", store=str(workspace.store_b))["total"] == 1
    assert api("runs", store="proj-b/sub/.nbtrack")["total"] == 1  # relative to the root
    api("runs", workspace.ids["b"], notebook=workspace.notebook_a, expect=404)
    assert api("runs", workspace.ids["b"], notebook=workspace.notebook_b)["name"] == "b-run"
    refused = api("runs", notebook="../elsewhere/x.ipynb", expect=400)
    assert "outside the server root" in refused["error"]


# ---- runs -----------------------------------------------------------------------------------
def test_runs_are_rows_with_params_metrics_and_tags(api, workspace: Workspace) -> None:
    found = api("runs", notebook=workspace.notebook_a, experiment="exp")
    assert [r["name"] for r in found["runs"]] == ["third", "second", "base"]  # newest first
    assert found["total"] == 3
    assert found["columns"] == {
        "params": ["layers", "lr"],
        "metrics": ["acc", "loss"],
        "tags": ["model"],
    }
    base = found["runs"][2]
    assert base["params"] == {"lr": 0.1, "layers": [64, 64]}
    assert base["metrics"] == {"acc": 0.99, "loss": 0.01}
    assert base["tags"] == {"model": "rf"}
    assert (base["status"], base["experiment"], base["parent_run_id"]) == ("finished", "exp", None)
    start, end = (datetime.fromisoformat(base[k]) for k in ("start_time", "end_time"))
    assert end >= start and base["duration"] >= 0
    cell = workspace.ids["c2"]
    rows = api("runs", notebook=workspace.notebook_a, filter=f"run_id = '{cell}'")["runs"]
    assert (rows[0]["cell_id"], rows[0]["notebook_path"]) == ("c2", workspace.notebook_a)
    assert rows[0]["notebook"] == str(workspace.root / workspace.notebook_a)


def test_runs_filter_order_and_page_as_search_does(api, workspace: Workspace) -> None:
    nb = workspace.notebook_a
    found = api("runs", notebook=nb, filter="params.lr < 0.05 and experiment = 'exp'")
    assert [r["name"] for r in found["runs"]] == ["third", "second"] and found["total"] == 2
    ranked = api("runs", notebook=nb, order_by="metrics.acc DESC", limit=3)
    assert [r["metrics"]["acc"] for r in ranked["runs"]] == [0.99, 0.95, 0.9]
    assert ranked["total"] == 8
    paged = api("runs", notebook=nb, order_by="metrics.acc DESC, name", limit=2, offset=1)
    assert [r["name"] for r in paged["runs"]] == ["second", "third"]
    with using_store(workspace.store_a):
        expected = nbtrack.search(order_by=["params.lr", "name"])["run_id"].tolist()
    everything = api("runs", notebook=nb, order_by="params.lr, name", limit=100)
    assert [r["run_id"] for r in everything["runs"]] == expected
    assert api("runs", notebook=nb, offset=50)["runs"] == []
    assert api("runs", notebook=nb, experiment="ot*")["total"] == 2


def test_a_bad_filter_is_a_400_that_points_at_the_problem(api, workspace: Workspace) -> None:
    nb = workspace.notebook_a
    bad = api("runs", notebook=nb, filter="params.lr < 0.1 and", expect=400)
    assert bad["position"] == len("params.lr < 0.1 and") and "expected" in bad["error"]
    typo = api("runs", notebook=nb, filter="param.lr < 1 and metrix.acc > 0", expect=400)
    assert typo["position"] == len("param.lr < 1 and ")
    assert "error" in api("runs", notebook=nb, order_by="metrics.acc SIDEWAYS", expect=400)
    assert "limit" in api("runs", notebook=nb, limit="ten", expect=400)["error"]
    assert "traceback" not in api.last.body.decode().lower()


# ---- one run --------------------------------------------------------------------------------
def test_a_run_has_everything_get_run_says_and_its_summaries(api, workspace: Workspace) -> None:
    ids, nb = workspace.ids, workspace.notebook_a
    run = api("runs", ids["base"], notebook=nb)
    assert (run["run_id"], run["name"], run["status"]) == (ids["base"], "base", "finished")
    assert run["params"] == {"layers": [64, 64], "lr": 0.1}
    assert run["metric_summaries"]["loss"] == {
        "last": 0.01,
        "min": 0.01,
        "max": 1.0,
        "count": 100,
        "step": 99,
    }
    assert {a["path"] for a in run["artifacts"]} == {"plot.png", "report.html", "tables/data.csv"}
    assert run["context"]["pid"] and "packages" in run["context"]
    assert (run["previous"], run["diff"], run["children"], run["models"]) == (None, None, [], [])
    assert api("runs", ids["sweep"], notebook=nb)["children"] == [ids["trial"]]
    assert api("runs", ids["trial"], notebook=nb)["parent_id"] == ids["sweep"]
    assert api("runs", ids["base"][:6], notebook=nb)["run_id"] == ids["base"]  # a prefix
    missing = api("runs", "nosuchrun", notebook=nb, expect=404)
    assert "nosuchrun" in missing["error"]


def test_a_cell_run_links_to_the_previous_run_of_its_cell(api, workspace: Workspace) -> None:
    ids = workspace.ids
    run = api("runs", ids["c1-v2"], notebook=workspace.notebook_a)
    context = run["context"]
    assert (context["cell_id"], context["notebook_path"]) == ("c1", workspace.notebook_a)
    assert context["code"] == "lr = 0.2\nfit(lr)\n"
    assert run["previous"] == ids["c1-v1"]
    assert run["diff"]["params"] == {"lr": [0.1, 0.2]}
    assert run["diff"]["metrics"] == {"acc": [0.8, 0.85]}
    assert "-lr = 0.1\n+lr = 0.2\n" in run["diff"]["code"]
    first = api("runs", ids["c1-v1"], notebook=workspace.notebook_a)
    assert first["previous"] is None and first["diff"] is None
    assert api("runs", ids["c2"], notebook=workspace.notebook_a)["previous"] is None


# ---- curves ---------------------------------------------------------------------------------
def test_curves_of_one_run_and_of_several(api, workspace: Workspace) -> None:
    ids, nb = workspace.ids, workspace.notebook_a
    (loss,) = api("runs", ids["base"], "curves", notebook=nb, keys="loss")["series"]
    expected = [ids["base"], "base", "loss", 100]
    assert [loss[k] for k in ("run_id", "name", "key", "count")] == expected
    assert loss["x"] == list(range(100)) and loss["y"][:2] == [1.0, 0.5]
    small = api("runs", ids["base"], "curves", notebook=nb, keys="loss", buckets=10)["series"]
    assert 10 <= small[0]["count"] <= 20 and max(small[0]["y"]) == 1.0
    every = api("runs", ids["base"], "curves", notebook=nb)["series"]
    assert [s["key"] for s in every] == ["acc", "loss"]
    timed = api("runs", ids["base"], "curves", notebook=nb, keys="acc", x="relative")["series"]
    assert all(x >= 0 for x in timed[0]["x"])
    compared = api("curves", notebook=nb, ids=f"{ids['second']},{ids['third']}", keys="acc")
    assert [s["name"] for s in compared["series"]] == ["second", "third"]
    api("curves", notebook=nb, ids=f"{ids['second']},nosuchrun", expect=404)
    bad_axis = api("runs", ids["base"], "curves", notebook=nb, x="epoch", expect=400)
    assert "x must be" in bad_axis["error"]
    api("curves", notebook=nb, expect=400)
    (window,) = api("runs", ids["base"], "curves", notebook=nb, keys="loss", range="20,29")[
        "series"
    ]
    assert window["x"] == list(range(19, 31))  # every point in it, and one on each side
    bad_range = api("runs", ids["base"], "curves", notebook=nb, range="5,5", expect=400)
    assert "range must be two different numbers" in bad_range["error"]


def test_views_are_the_widgets_state_for_the_lab_pages(api, workspace: Workspace) -> None:
    ids, nb = workspace.ids, workspace.notebook_a
    runs = [ids["base"], ids["second"], ids["third"]]
    plot = api("views", "plot", method="POST", notebook=nb,
               body={"runs": [ids["base"]], "keys": ["loss"]})  # fmt: skip
    assert plot["_view"] == "plot" and plot["_binary"] == ["_data"] and "_esm" not in plot
    assert [s["key"] for s in plot["_series"]] == ["loss"]
    compare = api("views", "compare", method="POST", notebook=nb, body={"runs": runs})
    assert {r["run_id"] for r in compare["_content"]["runs"]} == set(runs)
    picked = api("views", "compare", method="POST", notebook=nb,
                 body={"runs": runs, "traits": {"selected": runs[:2]}})  # fmt: skip
    assert [r["run_id"] for r in picked["_content"]["runs"]] == runs[:2]
    refused = api("views", "compare", method="POST", notebook=nb,
                  body={"runs": runs, "traits": {"_content": {}}}, expect=400)  # fmt: skip
    assert "cannot change _content" in refused["error"]
    api("views", "plot", method="POST", notebook=nb, body={"runs": runs}, expect=400)


# ---- artifacts ------------------------------------------------------------------------------
def test_artifacts_are_served_with_safe_content_types(api, workspace: Workspace) -> None:
    base, nb = workspace.ids["base"], workspace.notebook_a
    api("runs", base, "artifacts", "plot.png", notebook=nb)
    png = api.last
    assert (png.body, png.headers["Content-Type"]) == (PNG, "image/png")
    assert png.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in png.headers
    api("runs", base, "artifacts", "report.html", notebook=nb)
    page = api.last
    assert page.body.decode() == HTML
    assert page.headers["Content-Type"].startswith("text/plain")
    assert page.headers["Content-Disposition"].startswith("attachment")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    api("runs", base, "artifacts", "tables/data.csv", notebook=nb)
    assert api.last.body == b"a,b\n1,2\n" and api.last.headers["Content-Type"].startswith("text/")
    missing = api("runs", base, "artifacts", "nope.txt", notebook=nb, expect=404)
    assert "no artifact" in missing["error"]
    api("runs", "nosuchrun", "artifacts", "plot.png", notebook=nb, expect=404)


def test_artifact_paths_cannot_leave_the_run(raw, workspace: Workspace) -> None:
    base = workspace.ids["base"]
    store = f"?store={workspace.store_a}"
    prefix = f"runs/{base}/artifacts/"
    assert raw(prefix + "plot.png" + store).code == 200
    secret = workspace.secret.read_bytes()
    attempts = [
        "..%2F..%2F..%2F..%2Foutside%2Fsecret.txt",  # climbing, the slashes escaped
        "tables%2F..%2F..%2F..%2F..%2F..%2Foutside%2Fsecret.txt",
        "..%2F" + workspace.ids["second"] + "%2Fanything",
        "%2Fetc%2Fpasswd",  # absolute
        "/etc/passwd",
        "leak.txt",  # a symlink inside the run's folder, to a file outside the store
    ]
    for attempt in attempts:
        response = raw(prefix + attempt + store)
        assert response.code == 403, (attempt, response.code, response.body)
        assert secret not in response.body
        assert "error" in json.loads(response.body)
    # unescaped dots: the client may send them as they are; the answer is never the file
    climbing = raw(prefix + "../../../../outside/secret.txt" + store)
    assert climbing.code in (403, 404) and secret not in climbing.body


# ---- cells ----------------------------------------------------------------------------------
def test_cells_have_their_latest_run_for_badges(api, workspace: Workspace) -> None:
    ids = workspace.ids
    cells = api("cells", notebook=workspace.notebook_a)["cells"]
    assert set(cells) == {"c1", "c2"}
    assert cells["c1"]["run_id"] == ids["c1-v2"]  # the latest run of that cell
    assert (cells["c1"]["status"], cells["c1"]["metric"]) == ("finished", ["acc", 0.85])
    assert cells["c2"]["name"] == "score" and cells["c2"]["duration"] >= 0
    datetime.fromisoformat(cells["c2"]["start_time"])
    assert api("cells", notebook=workspace.notebook_b)["cells"] == {}
    assert "notebook" in api("cells", expect=400)["error"]


# ---- changes --------------------------------------------------------------------------------
def test_tags_delete_and_restore_round_trip(api, tmp_path: Path) -> None:
    store = tmp_path / "own"
    with using_store(store), nbtrack.run("tagged", tags={"stage": "draft"}) as run:
        run.log(acc=0.5)
    nbtrack.flush()
    s = str(store)
    assert api("runs", run.id, "tags", store=s)["tags"] == {"stage": "draft"}
    changed = api(
        "runs", run.id, "tags", method="POST", body={"key": "stage", "value": "final"}, store=s
    )
    assert changed == {"run_id": run.id, "tags": {"stage": "final"}}
    api("runs", run.id, "tags", method="POST", body={"key": "best", "value": True}, store=s)
    assert api("runs", run.id, store=s)["tags"] == {"best": "True", "stage": "final"}
    api("runs", run.id, "tags", method="POST", body={"value": "x"}, store=s, expect=400)
    api("runs", run.id, "tags", method="POST", body={"key": "k"}, store=s, expect=400)
    api("runs", "nosuchrun", "tags", method="POST", body={"key": "k", "value": "v"}, store=s,
        expect=404)  # fmt: skip

    assert api("runs", run.id, method="DELETE", store=s) == {"run_id": run.id, "deleted": True}
    assert api("runs", store=s)["total"] == 0
    hidden = api("runs", store=s, include_deleted="true")["runs"]
    assert [(r["run_id"], r["deleted"]) for r in hidden] == [(run.id, True)]
    assert api("store", store=s)["experiments"] == []
    assert api("runs", run.id, store=s)["deleted"] is True
    restored = api("runs", run.id, "restore", method="POST", store=s)
    assert restored == {"run_id": run.id, "deleted": False}
    assert [r["run_id"] for r in api("runs", store=s)["runs"]] == [run.id]
    api("runs", "nosuchrun", method="DELETE", store=s, expect=404)
    with using_store(store):
        nbtrack.flush()
        assert nbtrack.get_run(run.id).tags == {"best": "True", "stage": "final"}


def test_a_run_logged_by_another_process_appears_live(api, tmp_path: Path) -> None:
    store = tmp_path / "live"
    assert api("store", store=str(store))["exists"] is False
    script = write_script(
        tmp_path / "train.py",
        """
        import sys, nbtrack
        with nbtrack.run("elsewhere", experiment="live") as run:
            run.log(loss=0.5)
            nbtrack.flush()
            print(run.id, flush=True)
            sys.stdin.readline()
            run.log(loss=0.25)
    """,
    )
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=script_env(store),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = process.stdout.readline().strip()

        def running() -> bool:
            runs = api("runs", store=str(store))["runs"]
            return [(r["run_id"], r["status"]) for r in runs] == [(run_id, "running")]

        wait_for(running, "the other process's run, running")
        while_running = api("store", store=str(store))
        assert while_running["active"] == 1
        assert api("store", store=str(store))["version"] == while_running["version"]  # idle
        process.stdin.write("\n")
        process.stdin.flush()
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()

    def finished() -> dict:
        run = api("runs", run_id, store=str(store))
        return run if run["status"] == "finished" else {}

    assert wait_for(finished, "the run, finished")["metrics"] == {"loss": 0.25}
    after = api("store", store=str(store))
    assert after["active"] == 0 and after["version"] != while_running["version"]


# ---- access ---------------------------------------------------------------------------------
def test_requests_without_a_login_are_refused(api, raw, workspace: Workspace) -> None:
    base, nb = workspace.ids["base"], workspace.notebook_a
    no_token = {"Authorization": ""}
    assert api("store", notebook=nb, headers=no_token, expect=403) == {"error": "Forbidden"}
    api("runs", notebook=nb, headers=no_token, expect=403)
    api("runs", base, "artifacts", "plot.png", notebook=nb, headers=no_token, expect=403)
    assert raw(f"runs/{base}?store={workspace.store_a}", headers={}).code == 403
    wrong, tag = {"Authorization": "token not-the-token"}, {"key": "k", "value": "v"}
    api("runs", base, "tags", method="POST", body=tag, notebook=nb, headers=wrong, expect=403)
    api("runs", base, method="DELETE", notebook=nb, headers=no_token, expect=403)
    run = api("runs", base, notebook=nb)
    assert "k" not in run["tags"] and run["deleted"] is False


def test_the_widgets_bundles_are_served_for_the_lab_pages(
    http_server_client, jp_asyncio_loop, jp_base_url
) -> None:
    def get(name: str):
        url = jp_base_url + "nbtrack/static/" + name
        return jp_asyncio_loop.run_until_complete(http_server_client.fetch(url, raise_error=False))

    charts = get("charts.js")
    assert charts.code == 200 and "javascript" in charts.headers["Content-Type"]
    assert charts.body == (Path(nbtrack.__file__).parent / "static" / "charts.js").read_bytes()
    assert get("../server/handlers.py").code in (403, 404)
