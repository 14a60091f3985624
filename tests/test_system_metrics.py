"""System metrics: a sampler thread per run, over real busy loops, in-process and in a kernel."""

from __future__ import annotations

import sys
import threading
import time
import types
import warnings
from pathlib import Path
from typing import Any

import pytest
from helpers import wait_for
from kernels import errors, run_notebook, text

import nbtrack
from nbtrack import system_metrics
from nbtrack.errors import NbtrackError, NbtrackWarning

# (and disk rates, where psutil sees disks)
HOST_KEYS = {"system/cpu_percent", "system/rss_mb", "system/host_cpu_percent",
             "system/memory_used_mb", "system/memory_percent", "system/net_recv_mb_s",
             "system/net_sent_mb_s"}  # fmt: skip


def samplers(run_id: str | None = None) -> list[threading.Thread]:
    prefix = f"nbtrack-system-metrics-{run_id or ''}"
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def busy_until(done: Any, timeout: float = 60.0) -> None:
    """Keep a core busy until ``done()`` (the opposite of sleeping: the sampler must see it)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the sampler took no samples"
        sum(i * i for i in range(20_000))


def system_keys(run_id: str) -> set[str]:
    return {k for k in nbtrack.get_run(run_id).metrics if k.startswith("system/")}


def test_a_run_samples_the_system_while_it_is_active(tmp_store: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with nbtrack.run("busy", system_metrics=0.1) as run:
            assert len(samplers(run.id)) == 1
            sampler = run._sampler
            assert sampler is not None
            busy_until(lambda: sampler.samples >= 4)
            run.log(loss=0.5)
    wait_for(lambda: not samplers(run.id), "the sampler thread to end with the run")
    assert not [w for w in caught if issubclass(w.category, NbtrackWarning)]

    keys = system_keys(run.id)
    assert keys >= HOST_KEYS and not any("gpu" in k for k in keys)  # no NVIDIA GPU here
    history = nbtrack.history([run.id])
    cpu = history[history.key == "system/cpu_percent"]
    steps = cpu.step.tolist()
    assert steps == list(range(len(steps))) and len(steps) >= 4  # the sample index
    assert cpu.timestamp.is_monotonic_increasing
    assert cpu.value.max() > 20  # a busy loop shows (the host may be shared: not ~100)
    last = nbtrack.get_run(run.id).metrics
    assert 5 < last["system/rss_mb"] < 100_000 and last["system/memory_used_mb"] > 0
    assert 0 <= last["system/host_cpu_percent"] <= 100 and last["system/net_recv_mb_s"] >= 0
    assert run.status == "finished" and last["loss"] == 0.5


def test_runs_sample_nothing_unless_asked(tmp_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBTRACK_SYSTEM_METRICS", raising=False)
    with nbtrack.run() as run:
        assert not samplers() and run._sampler is None
        run.log(loss=1.0)
    assert system_keys(run.id) == set()


def test_the_environment_turns_it_on(tmp_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBTRACK_SYSTEM_METRICS", "1")
    monkeypatch.setenv("NBTRACK_SYSTEM_METRICS_INTERVAL", "0.1")
    with nbtrack.run() as run:
        sampler = run._sampler
        assert sampler is not None and sampler.interval == 0.1
        wait_for(lambda: "system/rss_mb" in system_keys(run.id), "a sample from the env var")
        with nbtrack.run(system_metrics=False) as off:  # an explicit False wins
            assert off._sampler is None
    assert samplers() == [] and system_keys(off.id) == set()
    monkeypatch.setenv("NBTRACK_SYSTEM_METRICS", "maybe")
    with pytest.raises(ValueError, match="NBTRACK_SYSTEM_METRICS must be 1 or 0"):
        nbtrack.start_run()
    assert nbtrack.active_run() is None


@pytest.mark.parametrize("bad", [0, -1.0, "yes", float("nan")])
def test_a_bad_interval_starts_no_run(tmp_store: Path, bad: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="system"):
        nbtrack.start_run(system_metrics=bad)
    assert nbtrack.active_run() is None and not samplers()


def test_without_psutil_the_error_names_the_extra(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil now raises ImportError
    with pytest.raises(NbtrackError, match=r"pip install 'nbtrack\[system\]'"):
        nbtrack.start_run(system_metrics=True)
    assert nbtrack.active_run() is None


def test_a_failing_sampler_warns_once_and_the_run_goes_on(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = system_metrics._Probe.sample
    calls = []

    def flaky(self: Any) -> dict[str, float]:
        calls.append(1)
        if len(calls) > 1:
            raise OSError("/proc is gone")
        return real(self)

    monkeypatch.setattr(system_metrics._Probe, "sample", flaky)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with nbtrack.run(system_metrics=0.05) as run:
            wait_for(lambda: not samplers(run.id), "the failed sampler to stop")
            run.log(loss=1.0)  # the run goes on
    ours = [str(w.message) for w in caught if issubclass(w.category, NbtrackWarning)]
    assert ours == [f"nbtrack stopped sampling system metrics of run {run.id}: "
                    "OSError: /proc is gone"]  # fmt: skip
    assert len(calls) == 2 and run.status == "finished"
    metrics = nbtrack.get_run(run.id).metrics
    assert metrics["loss"] == 1.0 and "system/cpu_percent" in metrics  # the first sample


def _fake_nvml(shutdowns: list[int], fail_init: bool = False) -> types.ModuleType:
    """A stand-in for nvidia-ml-py's pynvml with two GPUs (this machine has none); the second
    does not report its power, as some boards do not."""
    nvml = types.ModuleType("pynvml")
    ns = types.SimpleNamespace

    def init() -> None:
        if fail_init:
            raise RuntimeError("NVML Shared Library Not Found")

    def power(handle: int) -> int:
        if handle == 1:
            raise RuntimeError("Not Supported")
        return 71_500  # milliwatts

    nvml.NVML_TEMPERATURE_GPU = 0  # type: ignore[attr-defined]
    nvml.nvmlInit = init  # type: ignore[attr-defined]
    nvml.nvmlShutdown = lambda: shutdowns.append(1)  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCount = lambda: 2  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetUtilizationRates = lambda h: ns(gpu=40 + h)  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetMemoryInfo = (  # type: ignore[attr-defined]
        lambda h: ns(used=2048 * 1024 * 1024, total=8192 * 1024 * 1024)
    )
    nvml.nvmlDeviceGetPowerUsage = power  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetTemperature = lambda h, sensor: 60 + h  # type: ignore[attr-defined]
    return nvml


def test_nvidia_gpus_are_sampled_through_nvml(
    tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutdowns: list[int] = []
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(shutdowns))
    with nbtrack.run(system_metrics=0.05) as run:
        wait_for(lambda: "system/gpu1/utilization" in system_keys(run.id), "a GPU sample")
    metrics = nbtrack.get_run(run.id).metrics
    assert {k: v for k, v in metrics.items() if "/gpu" in k} == {
        "system/gpu0/utilization": 40.0, "system/gpu0/memory_used_mb": 2048.0,
        "system/gpu0/memory_percent": 25.0, "system/gpu0/power_w": 71.5,
        "system/gpu0/temperature_c": 60.0,
        "system/gpu1/utilization": 41.0, "system/gpu1/memory_used_mb": 2048.0,
        "system/gpu1/memory_percent": 25.0, "system/gpu1/temperature_c": 61.0,
    }  # fmt: skip
    assert shutdowns == [1]

    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(shutdowns, fail_init=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with nbtrack.run(system_metrics=0.05) as quiet:
            wait_for(lambda: "system/rss_mb" in system_keys(quiet.id), "a sample")
    assert not any("gpu" in k for k in system_keys(quiet.id))
    assert not [w for w in caught if issubclass(w.category, NbtrackWarning)]


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def test_track_system_in_a_kernel_with_a_live_plot(tmp_store: Path, tmp_path: Path) -> None:
    import nbformat

    busy = (
        "import time\nstart = time.monotonic()\nwhile time.monotonic() - start < 1.5:\n"
        "    sum(i * i for i in range(20_000))\n"
        "    nbtrack.log(loss=1 / (time.monotonic() - start + 1))"
    )
    sources = [
        "%load_ext nbtrack\nimport nbtrack",
        f"%%track with-system --system --live loss,system/cpu_percent\n{busy}",
        "%%track without\nnbtrack.log(loss=1.0)",
        "%env NBTRACK_SYSTEM_METRICS=1\nimport threading",
        f"%%track from-env\n{busy}",
        "print(sorted(t.name for t in threading.enumerate() if 'system-metrics' in t.name))",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    run_notebook(nb, tmp_store, tmp_path, NBTRACK_SYSTEM_METRICS_INTERVAL="0.1")
    cells = nb.cells
    assert not any(errors(c) for c in cells), [text(c) for c in cells]
    assert text(cells[5]).strip() == "[]"  # no sampler left behind

    runs = {name: nbtrack.get_run(rid) for rid, name in nbtrack.search()[["run_id", "name"]].values}
    for name in ("with-system", "from-env"):
        keys = set(runs[name].metrics)
        assert keys >= HOST_KEYS | {"loss"}, (name, keys)
        steps = nbtrack.history([runs[name].id], ["system/cpu_percent"]).step.tolist()
        assert steps == list(range(len(steps))) and len(steps) >= 5
    assert set(runs["without"].metrics) == {"loss"}

    shown = [o for o in cells[1].outputs if o.output_type == "display_data"]
    assert len(shown) == 2 and shown[1].data["image/png"]  # the live plot and its last image
    states = nb.metadata.widgets[WIDGET_STATE]["state"].values()
    plot = next(s["state"] for s in states if s["state"].get("_view") == "plot")
    drawn = {(series["run_id"], series["key"]) for series in plot["_series"]}
    assert drawn == {(runs["with-system"].id, "loss"),
                     (runs["with-system"].id, "system/cpu_percent")}  # fmt: skip
