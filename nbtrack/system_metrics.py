"""System metrics: a background thread samples the machine while a run is active and logs what
it sees as ``system/…`` metrics of that run, so every widget and query shows them.

Each sample is one step (0, 1, 2, …; its wall time is the point's timestamp), taken every
``interval`` seconds and once more when the run ends. Logged per sample:

- ``system/cpu_percent`` (this process; above 100 when it keeps several cores busy),
  ``system/rss_mb``, ``system/host_cpu_percent``, ``system/memory_used_mb``,
  ``system/memory_percent``;
- ``system/disk_read_mb_s``, ``system/disk_write_mb_s``, ``system/net_recv_mb_s``,
  ``system/net_sent_mb_s`` (host-wide rates over the last interval);
- per NVIDIA GPU, when nvidia-ml-py is installed and finds one: ``system/gpu0/utilization``,
  ``system/gpu0/memory_used_mb``, ``system/gpu0/memory_percent``, ``system/gpu0/power_w``,
  ``system/gpu0/temperature_c``.

>>> import nbtrack, tempfile
>>> nbtrack.set_store(tempfile.mkdtemp())
>>> with nbtrack.run(system_metrics=0.1) as run:
...     total = sum(i * i for i in range(2_000_000))
>>> nbtrack.get_run(run.id).metrics["system/rss_mb"] > 0
True
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

from .errors import InactiveRunError, NbtrackWarning
from .extras import optional

if TYPE_CHECKING:
    from .tracking import Run

MB = 1024 * 1024
# When the run ends, a last sample covers the time since the previous one, unless that is under
# this fraction of the interval (too short a window to say much).
LAST_SAMPLE_FRACTION = 0.1
# How long ending a run waits for the sampler's last sample before leaving it behind (a daemon).
STOP_TIMEOUT_S = 5.0


def load_psutil() -> Any:
    """psutil, or the error naming the extra that installs it."""
    return optional("psutil", "system metrics", "system")


class _Probe:
    """Reads the counters; rates and CPU percentages cover the time since the previous read."""

    def __init__(self, psutil: Any) -> None:
        self.psutil = psutil
        self.process = psutil.Process()
        self.process.cpu_percent(None)  # the first call starts the window and returns 0.0
        psutil.cpu_percent(None)
        self.when = time.monotonic()
        self.disk = psutil.disk_io_counters()
        self.net = psutil.net_io_counters()
        self.nvml, self.gpus = _open_gpus()

    def sample(self) -> dict[str, float]:
        psutil = self.psutil
        now = time.monotonic()
        elapsed = max(now - self.when, 1e-9)
        self.when = now
        memory = psutil.virtual_memory()
        values = {
            "system/cpu_percent": self.process.cpu_percent(None),
            "system/rss_mb": self.process.memory_info().rss / MB,
            "system/host_cpu_percent": psutil.cpu_percent(None),
            "system/memory_used_mb": memory.used / MB,
            "system/memory_percent": memory.percent,
        }
        disk, net = psutil.disk_io_counters(), psutil.net_io_counters()
        if disk is not None and self.disk is not None:  # None: no disks psutil can see
            values["system/disk_read_mb_s"] = _rate(disk, self.disk, "read_bytes", elapsed)
            values["system/disk_write_mb_s"] = _rate(disk, self.disk, "write_bytes", elapsed)
        if net is not None and self.net is not None:
            values["system/net_recv_mb_s"] = _rate(net, self.net, "bytes_recv", elapsed)
            values["system/net_sent_mb_s"] = _rate(net, self.net, "bytes_sent", elapsed)
        self.disk, self.net = disk, net
        for index, handle in enumerate(self.gpus):
            values.update(_gpu_sample(self.nvml, handle, f"system/gpu{index}/"))
        return values

    def close(self) -> None:
        if self.nvml is not None:
            with contextlib.suppress(Exception):
                self.nvml.nvmlShutdown()


def _rate(new: Any, old: Any, field: str, elapsed: float) -> float:
    """MB/s of a byte counter between two reads (0 when it went back: a device was removed)."""
    return max(getattr(new, field) - getattr(old, field), 0) / MB / elapsed


def _open_gpus() -> tuple[Any, list[Any]]:
    """pynvml (from nvidia-ml-py) and a handle per GPU; (None, []) without either, silently."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # not installed, no driver, no GPU: nothing to log, nothing to say
        return None, []
    try:
        return pynvml, [pynvml.nvmlDeviceGetHandleByIndex(i)
                        for i in range(pynvml.nvmlDeviceGetCount())]  # fmt: skip
    except Exception:
        pynvml.nvmlShutdown()
        return None, []


def _gpu_sample(nvml: Any, handle: Any, prefix: str) -> dict[str, float]:
    """What one GPU reports; a reading it does not support (power on some boards) is left out."""
    readers = {
        "utilization": lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu,
        "memory_used_mb": lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used / MB,
        "memory_percent": lambda: _memory_percent(nvml.nvmlDeviceGetMemoryInfo(handle)),
        "power_w": lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000,
        "temperature_c": lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU),
    }
    values = {}
    for name, read in readers.items():
        with contextlib.suppress(Exception):
            values[prefix + name] = float(read())
    return values


def _memory_percent(info: Any) -> float:
    return 100.0 * info.used / info.total if info.total else 0.0


class SystemMetrics:
    """The sampler of one run: a daemon thread from :meth:`start` until :meth:`stop`.

    Runs make their own (``nbtrack.run(system_metrics=...)``); a failure while sampling is one
    :class:`nbtrack.NbtrackWarning` and the sampler stops, the run goes on.
    """

    def __init__(self, run: Run, interval: float) -> None:
        self.run = run
        self.interval = interval
        self.samples = 0
        self._psutil = load_psutil()  # a missing psutil is an error before the run starts
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"nbtrack-system-metrics-{run.id}", daemon=True
        )

    @property
    def alive(self) -> bool:
        """Whether the sampling thread is still running."""
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Take the last sample and end the thread (waits for it, at most ``STOP_TIMEOUT_S``)."""
        self._stopping.set()
        if self._thread.ident is not None and self._thread is not threading.current_thread():
            self._thread.join(STOP_TIMEOUT_S)

    def _loop(self) -> None:
        probe = None
        try:
            probe = _Probe(self._psutil)
            due = time.monotonic() + self.interval
            while not self._stopping.wait(max(due - time.monotonic(), 0.0)):
                self._log(probe)
                due = max(due + self.interval, time.monotonic())  # no burst after a stall
            if time.monotonic() - probe.when >= LAST_SAMPLE_FRACTION * self.interval:
                self._log(probe)
        except InactiveRunError:
            pass  # the run ended while a sample was on its way
        except Exception as err:
            warnings.warn(
                f"nbtrack stopped sampling system metrics of run {self.run.id}: "
                f"{type(err).__name__}: {err}",
                NbtrackWarning,
                stacklevel=1,
            )
        finally:
            if probe is not None:
                probe.close()

    def _log(self, probe: _Probe) -> None:
        self.run._log(probe.sample(), self.samples)
        self.samples += 1
