"""ONNX models (``model.onnx``), predicted with ONNX Runtime: export a PyTorch, Keras or
scikit-learn model to ONNX and log that."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Flavor, Predictor, Saved, pyfunc_conf

MODEL_FILE = "model.onnx"
# Providers written into the MLmodel: the CPU one runs everywhere. (MLflow lists CUDA first
# and warns on every load where it is missing.)
PROVIDERS = ["CPUExecutionProvider"]


class OnnxFlavor(Flavor):
    name = "onnx"
    loader_module = "mlflow.onnx"
    extra = "onnx"
    library = "onnx"

    def matches(self, model: Any) -> bool:
        cls = type(model)
        return cls.__module__.split(".")[0] == "onnx" and cls.__name__ == "ModelProto"

    def save(self, model: Any, folder: Path, **options: Any) -> Saved:
        onnx = self.lib()
        onnx.save_model(model, str(folder / MODEL_FILE))
        conf = {"code": None, "data": MODEL_FILE, "onnx_session_options": None,
                "onnx_version": onnx.__version__, "providers": list(PROVIDERS)}  # fmt: skip
        return Saved(conf, pyfunc_conf(self.loader_module, data=MODEL_FILE),
                     ["onnx", ("onnxruntime", "onnxruntime-gpu")])  # fmt: skip

    def load(self, folder: Path, flavors: dict[str, dict[str, Any]]) -> Any:
        conf = flavors.get(self.name) or {}
        return self.lib().load(str(folder / conf.get("data", MODEL_FILE)))

    def predictor(
        self, folder: Path, flavors: dict[str, dict[str, Any]], model: Any = None
    ) -> Predictor:
        ort = self.lib("onnxruntime")
        conf = flavors.get(self.name) or {}
        available = set(ort.get_available_providers())
        wanted = [p if isinstance(p, str) else p[0] for p in conf.get("providers") or PROVIDERS]
        providers = [p for p in wanted if p in available] or ["CPUExecutionProvider"]
        source = model.SerializeToString() if model is not None else str(
            folder / conf.get("data", MODEL_FILE))  # fmt: skip
        return OnnxPredictor(ort.InferenceSession(source, providers=providers))

    def raw(self, predictor: Predictor) -> Any:
        return getattr(predictor, "session", predictor)


class OnnxPredictor:
    """Feeds a DataFrame, an array or a dict of arrays to an ONNX Runtime session, as MLflow's
    onnx flavor does: one input takes all columns, several inputs take a column each."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs = [(i.name, i.type) for i in session.get_inputs()]
        self.outputs = [o.name for o in session.get_outputs()]

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        if isinstance(data, dict):
            feeds = {k: np.asarray(v) for k, v in data.items()}
        elif isinstance(data, pd.DataFrame):
            if len(self.inputs) > 1:
                feeds = {name: data[name].to_numpy() for name, _ in self.inputs}
            else:
                feeds = {self.inputs[0][0]: data.to_numpy()}
        else:
            if len(self.inputs) != 1:
                names = ", ".join(n for n, _ in self.inputs)
                raise ValueError(f"this ONNX model has inputs {names}: send a dict of arrays")
            feeds = {self.inputs[0][0]: np.asarray(data)}
        for name, kind in self.inputs:  # JSON brings float64; ONNX float inputs are float32
            if kind == "tensor(float)" and name in feeds and feeds[name].dtype == np.float64:
                feeds[name] = feeds[name].astype(np.float32)
        results = self.session.run(self.outputs, feeds)
        if isinstance(data, pd.DataFrame):
            flat = {
                n: np.asarray(r).reshape(-1) for n, r in zip(self.outputs, results, strict=True)
            }
            if len({len(v) for v in flat.values()}) == 1:
                return pd.DataFrame(flat)
        return dict(zip(self.outputs, results, strict=True))


FLAVOR = OnnxFlavor()
