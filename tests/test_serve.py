"""The scoring server: a real server process (``python -m nbtrack.serving``) and real HTTP requests,
and ``nbtrack.serve`` in this process."""

from __future__ import annotations

import http.client
import io
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import DEADLINE_S, ROOT, wait_for
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbtrack
import nbtrack.serving
from nbtrack.errors import NbtrackError
from nbtrack.mlmodel import PythonModel, save_model
from nbtrack.registry import register_model, set_alias

# The shared server refuses bodies over this many bytes (the 413 tests send more).
SMALL_LIMIT = 64 * 1024


# ---- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wine() -> tuple[pd.DataFrame, Any]:
    """The wine data and a logistic regression on it (scaled first: it converges at once)."""
    X, y = load_wine(return_X_y=True, as_frame=True)
    return X, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, wine: Any) -> Path:
    X, model = wine
    folder = tmp_path_factory.mktemp("serve") / "wine"
    save_model(model, folder, input_example=X.head(2))
    return folder


def start_server(*args: str, store: Path | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["PYTHONPATH"] = str(ROOT)
    if store is not None:
        env["NBTRACK_STORE"] = str(store)
    return subprocess.Popen(
        [sys.executable, "-m", "nbtrack.serving", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def served_url(proc: subprocess.Popen[str]) -> str:
    """The URL the server prints once listening; then wait for /ping to answer."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], DEADLINE_S)
    line = proc.stdout.readline() if ready else ""
    assert line.startswith("Serving "), f"no URL printed: {line!r}\n{stop(proc)[1]}"
    url = line.split(" at ")[1].split()[0]
    wait_for(lambda: get(url + "/ping")[0] == 200, "the server to answer /ping")
    return url


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Ctrl+C the server; its exit code and stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=DEADLINE_S)
    return proc.returncode, err


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Any:
    proc = start_server(str(model_dir), "--port", "0", "--max-body-mb", str(SMALL_LIMIT / 2**20))
    url = served_url(proc)
    yield url
    code, err = stop(proc)
    assert code == 0, err
    assert "Traceback" not in err, err


# ---- HTTP -----------------------------------------------------------------------------------
def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=DEADLINE_S) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def post(url: str, body: bytes | str | Any, content_type: str | None = "application/json"):
    """POST to /invocations: (status, decoded JSON body). Non-bytes bodies are sent as JSON."""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = json.dumps(body).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    connection = connect(url)
    try:
        connection.request("POST", "/invocations", body, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def connect(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=DEADLINE_S)


def rows(wine: Any, n: int = 3) -> pd.DataFrame:
    return wine[0].iloc[[0, 70, 140]].head(n)


def expected(wine: Any, frame: pd.DataFrame) -> list[int]:
    return wine[1].predict(frame).tolist()


def assert_error(status: int, body: dict[str, Any], want_status: int, *phrases: str) -> None:
    assert status == want_status, body
    assert set(body) == {"error_code", "message"}, body
    assert "Traceback" not in body["message"] and 'File "' not in body["message"]
    for phrase in phrases:
        assert phrase in body["message"], body["message"]


# ---- endpoints ------------------------------------------------------------------------------
def test_ping_health_and_version(server: str) -> None:
    assert get(server + "/ping") == (200, b"\n")
    assert get(server + "/health") == (200, b"\n")
    assert get(server + "/version") == (200, nbtrack.__version__.encode())


PAYLOADS = {
    "dataframe_split": lambda f: {"dataframe_split": f.to_dict(orient="split")},
    "dataframe_split_no_index": lambda f: {
        "dataframe_split": {"columns": list(f.columns), "data": f.to_numpy().tolist()}
    },
    "dataframe_records": lambda f: {"dataframe_records": f.to_dict(orient="records")},
    "instances_records": lambda f: {"instances": f.to_dict(orient="records")},
    "instances_rows": lambda f: {"instances": f.to_numpy().tolist()},
    "inputs_columns": lambda f: {"inputs": f.to_dict(orient="list")},
    "inputs_rows": lambda f: {"inputs": f.to_numpy().tolist()},
    "inputs_records": lambda f: {"inputs": f.to_dict(orient="records")},
}


@pytest.mark.parametrize("name", PAYLOADS)
def test_every_json_format_predicts_as_the_model(server: str, wine: Any, name: str) -> None:
    frame = rows(wine)
    status, body = post(server, PAYLOADS[name](frame))
    assert status == 200, body
    assert body == {"predictions": expected(wine, frame)}


def test_responses_are_mlflows(server: str, wine: Any, model_dir: Path) -> None:
    """MLflow's own scoring function, on the same folder, answers every payload the same;
    rows without column names MLflow refuses for a model with named columns, nbtrack takes
    them in the signature's order."""
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    model = mlflow.pyfunc.load_model(str(model_dir))
    schema = model.metadata.get_input_schema()
    frame = rows(wine)
    bodies = {name: (json.dumps(to_json(frame)), "application/json")
              for name, to_json in PAYLOADS.items()}  # fmt: skip
    bodies["csv"] = (frame.to_csv(index=False), "text/csv")
    refused = set()
    for name, (body, content_type) in bodies.items():
        ours = post(server, body, content_type)
        try:
            theirs = scoring_server.invocations(body, content_type, model, schema)
        except MlflowException:
            refused.add(name)
            continue
        assert ours == (theirs.status, json.loads(theirs.response)), name
    assert refused == {"instances_rows", "inputs_rows"}


def test_one_row_and_columns_in_any_order(server: str, wine: Any) -> None:
    frame = rows(wine, 1)
    shuffled = frame[list(reversed(frame.columns))]
    assert post(server, {"dataframe_split": shuffled.to_dict(orient="split")}) == (
        200,
        {"predictions": expected(wine, frame)},
    )
    one_row = {"inputs": frame.iloc[0].to_dict()}  # a dict of scalars is one row
    assert post(server, one_row) == (200, {"predictions": expected(wine, frame)})


def test_integers_are_upcast_to_the_signatures_doubles(server: str, wine: Any) -> None:
    frame = rows(wine).round().astype("int64")
    status, body = post(server, {"dataframe_records": frame.to_dict(orient="records")})
    assert status == 200, body
    assert body["predictions"] == expected(wine, frame.astype("float64"))


def test_csv_and_parquet(server: str, wine: Any) -> None:
    frame = rows(wine)
    want = {"predictions": expected(wine, frame)}
    assert post(server, frame.to_csv(index=False), "text/csv") == (200, want)
    assert post(server, frame.to_csv(index=False), "text/csv; charset=utf-8") == (200, want)
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    assert post(server, parquet.getvalue(), "application/vnd.apache.parquet") == (200, want)


def test_content_type_with_charset_and_params_key(server: str, wine: Any) -> None:
    frame = rows(wine, 1)
    payload = {"dataframe_split": frame.to_dict(orient="split")}
    content_type = "application/json; charset=UTF-8"
    assert post(server, payload, content_type) == (200, {"predictions": expected(wine, frame)})


def test_many_requests_on_one_keep_alive_connection(server: str, wine: Any) -> None:
    connection = connect(server)
    frame = rows(wine, 1)
    body = json.dumps({"dataframe_split": frame.to_dict(orient="split")})
    for _ in range(20):
        connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read()) == {"predictions": expected(wine, frame)}
    connection.close()


# ---- bad input: a 4xx with a JSON error naming the problem ----------------------------------
BAD_JSON = {
    "malformed": ('{"dataframe_records": [{"alcohol": 1.0}', "not valid JSON"),
    "array": ("[1, 2]", "must be a JSON object"),
    "unknown_key": ('{"dataframe": []}', "unknown key 'dataframe'"),
    "typo_in_params": ('{"inputs": [[1]], "param": {}}', "unknown key 'param'"),
    "two_formats": ('{"inputs": [], "instances": []}', "exactly one of"),
    "no_format": ('{"params": {}}', "exactly one of"),
    "params_not_object": ('{"inputs": [[1]], "params": [1]}', "'params' must be a JSON object"),
    "split_without_data": ('{"dataframe_split": {"columns": ["a"]}}', "'data'"),
    "split_bad_shape": (
        '{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2, 3]]}}',
        "'dataframe_split' is not a valid table",
    ),
    "records_not_list": ('{"dataframe_records": {"a": 1}}', "list of row objects"),
    "instances_not_list": ('{"instances": 3}', "'instances' must be a list"),
    "ragged_rows": ('{"instances": [[1, 2], [3]]}', "'instances' is not a valid array"),
    "not_utf8": (b'{"inputs": "\xff\xfe"}', "not UTF-8"),
}


@pytest.mark.parametrize("name", BAD_JSON)
def test_malformed_bodies_are_400s_naming_the_problem(server: str, name: str) -> None:
    body, phrase = BAD_JSON[name]
    status, error = post(server, body)
    assert_error(status, error, 400, phrase)
    assert error["error_code"] == "BAD_REQUEST"


def test_a_missing_column_names_it(server: str, wine: Any) -> None:
    frame = rows(wine).drop(columns=["hue"])
    status, error = post(server, {"dataframe_split": frame.to_dict(orient="split")})
    assert_error(status, error, 400, "missing column 'hue'")
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"


def test_a_wrong_type_names_the_column(server: str, wine: Any) -> None:
    records = rows(wine).to_dict(orient="records")
    records[0]["alcohol"] = "strong"
    status, error = post(server, {"dataframe_records": records})
    assert_error(status, error, 400, "alcohol", "double")
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"


def test_too_few_values_per_row(server: str) -> None:
    status, error = post(server, {"inputs": [[1.0, 2.0, 3.0]]})
    assert_error(status, error, 400, "13 columns")


def test_bad_csv(server: str) -> None:
    status, error = post(server, b"", "text/csv")
    assert_error(status, error, 400, "not a valid CSV")
    status, error = post(server, "alcohol,hue\n1.0,x\n", "text/csv")
    assert_error(status, error, 400)  # columns missing, and 'hue' is text


@pytest.mark.parametrize(
    ("content_type", "phrase"),
    [
        ("text/plain", "unsupported Content-Type 'text/plain'"),
        (None, "no Content-Type"),
        ("application/json; charset=latin-1", "charset"),
        ("application/json; format=pandas-split", "dataframe_split"),
    ],
)
def test_other_content_types_are_415s(server: str, content_type: str | None, phrase: str) -> None:
    status, error = post(server, '{"inputs": [[1]]}', content_type)
    assert_error(status, error, 415, phrase)


def test_a_body_over_the_limit_is_a_413(server: str) -> None:
    big = json.dumps({"inputs": [[1.0] * 13] * 5000}).encode()
    assert len(big) > SMALL_LIMIT
    status, error = post(server, big)
    assert_error(status, error, 413, "over the server's limit", f"{SMALL_LIMIT:,}")
    # sent in chunks, without a Content-Length: refused as it passes the limit
    connection = connect(server)
    chunks = (big[i : i + 8192] for i in range(0, len(big), 8192))
    connection.request("POST", "/invocations", chunks, {"Content-Type": "application/json"},
                       encode_chunked=True)  # fmt: skip
    response = connection.getresponse()
    assert_error(response.status, json.loads(response.read()), 413, "over the server's limit")
    connection.close()
    assert get(server + "/ping")[0] == 200


def test_unknown_endpoints_and_methods_are_json(server: str) -> None:
    status, body = get(server + "/predict")
    assert_error(status, json.loads(body), 404, "POST /invocations")
    status, body = get(server + "/invocations")
    assert_error(status, json.loads(body), 405, "GET /invocations")


# ---- a model that cannot load: one clear line, exit code 1, nothing listening -----------------
def test_a_missing_model_exits_1_with_one_message(tmp_path: Path) -> None:
    proc = start_server(str(tmp_path / "nowhere"), "--port", "0")
    out, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 1
    assert out == ""  # never said it was serving
    assert err.startswith("nbtrack serve: error: ") and "nowhere" in err, err
    assert "Traceback" not in err


def test_a_broken_model_exits_1_before_binding(tmp_path: Path, model_dir: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in model_dir.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    (broken / "model.pkl").write_bytes(b"not a pickle")
    with socket.socket() as taken:  # loading first: the load error, not the port's
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = start_server(str(broken), "--port", str(taken.getsockname()[1]))
        out, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 1, err
    assert "nbtrack serve: error: " in err and "Traceback" not in err, err
    assert "broken" in err and "cannot listen" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert out == ""


# ---- a registered model, several workers ---------------------------------------------------
def test_several_workers_serve_a_registered_alias(
    tmp_store: Path, model_dir: Path, wine: Any
) -> None:
    version = register_model(str(model_dir), "wine")
    set_alias("wine", "champion", version.version)
    proc = start_server("models:/wine@champion", "--port", "0", "--workers", "2", store=tmp_store)
    try:
        url = served_url(proc)
        frame = rows(wine)
        payload = {"dataframe_split": frame.to_dict(orient="split")}
        for _ in range(4):
            assert post(url, payload) == (200, {"predictions": expected(wine, frame)})
    finally:
        code, err = stop(proc)
    assert code == 0, err


def test_an_unknown_alias_exits_1_naming_it(tmp_store: Path, model_dir: Path) -> None:
    register_model(str(model_dir), "wine")
    proc = start_server("models:/wine@nope", "--port", "0", store=tmp_store)
    out, err = proc.communicate(timeout=DEADLINE_S)
    assert (proc.returncode, out) == (1, "")
    assert err.startswith("nbtrack serve: error: ") and "nope" in err, err
    assert "Traceback" not in err


# ---- in this process: nbtrack.serve ---------------------------------------------------
class Fragile(PythonModel):
    """Fails inside predict on negative input, as a model with a bug would."""

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        if (model_input["x"] < 0).any():
            raise ValueError("x must not be negative")
        return model_input["x"] * 2.0


def free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("nbtrack-serve")]


def test_serve_in_process(model_dir: Path, wine: Any) -> None:
    server = nbtrack.serve(str(model_dir), port=0)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.url in repr(server) and "running" in repr(server)
        assert server.url in server._repr_html_()
        frame = rows(wine)
        payload = {"dataframe_records": frame.to_dict(orient="records")}
        assert post(server.url, payload) == (200, {"predictions": expected(wine, frame)})
        port = server.port
        assert not free(port)
    finally:
        server.stop()
    assert free(port)
    assert "stopped" in repr(server)
    server.stop()  # again: nothing happens
    assert not server_threads()


def test_serve_is_a_context_manager(model_dir: Path) -> None:
    with nbtrack.serve(str(model_dir), port=0) as server:
        assert get(server.url + "/ping")[0] == 200
    assert not server.running
    assert not server_threads()


def test_stop_all(model_dir: Path) -> None:
    servers = [nbtrack.serve(str(model_dir), port=0) for _ in range(2)]
    nbtrack.serving.stop_all()
    assert not any(server.running for server in servers)
    assert all(free(server.port) for server in servers)
    assert not server_threads()


def test_an_error_inside_predict_is_a_400_with_its_message(tmp_path: Path) -> None:
    save_model(Fragile(), tmp_path / "fragile", input_example=pd.DataFrame({"x": [1.0]}))
    with nbtrack.serve(str(tmp_path / "fragile"), port=0) as server:
        doubled = {"predictions": [{"x": 2.0}, {"x": 5.0}]}  # a Series, as MLflow sends it
        assert post(server.url, {"inputs": {"x": [1.0, 2.5]}}) == (200, doubled)
        status, error = post(server.url, {"inputs": {"x": [-1.0]}})
        assert_error(status, error, 400, "ValueError: x must not be negative")
        assert error["error_code"] == "BAD_REQUEST"
        assert get(server.url + "/ping")[0] == 200  # still serving


def test_nan_predictions_are_null(tmp_path: Path) -> None:
    save_model(Fragile(), tmp_path / "fragile", input_example=pd.DataFrame({"x": [1.0]}))
    with nbtrack.serve(str(tmp_path / "fragile"), port=0) as server:
        payload = {"dataframe_split": {"columns": ["x"], "data": [[np.nan]]}}
        status, body = post(server.url, payload)
    assert (status, body) == (200, {"predictions": [{"x": None}]})


def test_serve_of_a_missing_model_raises_and_leaves_nothing_running(tmp_path: Path) -> None:
    with pytest.raises(NbtrackError, match="nowhere"):
        nbtrack.serve(str(tmp_path / "nowhere"), port=0)
    assert not server_threads()


def test_serve_on_a_taken_port_raises(model_dir: Path) -> None:
    first = nbtrack.serve(str(model_dir), port=0)
    try:
        with pytest.raises(NbtrackError, match=f"port {first.port} is taken by a server started"):
            nbtrack.serve(str(model_dir), port=first.port)
    finally:
        first.stop()
    with socket.socket() as taken:  # taken by someone else
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(NbtrackError, match=f"cannot listen on 127.0.0.1:{port}"):
            nbtrack.serve(str(model_dir), port=port)
    with pytest.raises(NbtrackError, match="workers"):
        nbtrack.serve(str(model_dir), port=0, workers=2)
