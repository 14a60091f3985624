"""PyFuncModel: any saved model behind one ``predict``, with its input checked first.

>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> from sklearn.linear_model import LinearRegression
>>> from nbtrack.mlmodel import save_model, load_model
>>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
>>> folder = Path(tempfile.mkdtemp()) / "lr"
>>> _ = save_model(LinearRegression().fit(X, [2.0, 4.0, 6.0]), folder, input_example=X)
>>> model = load_model(folder, generic=True)
>>> model.predict([{"x": 4}]).round(3).tolist()
[8.0]
>>> model.predict([{"y": 4.0}])
Traceback (most recent call last):
...
nbtrack.errors.ModelSignatureError: input is missing column 'x' (double); the model's signature expects: x (double)
"""  # noqa: E501

from __future__ import annotations

from pathlib import Path
from typing import Any

from .enforce import as_frame, enforce
from .example import load_example
from .flavors import Flavor
from .flavors.base import Predictor
from .metadata import ModelMetadata


class PyFuncModel:
    """A loaded model with a generic ``predict(data, params=None)``.

    ``data``: a DataFrame, a numpy array, a list of row dicts or a dict of columns. When the
    model has a signature, the input is checked (and safely converted) against it first: a
    missing column or a wrong type raises ModelSignatureError before the model runs.
    """

    def __init__(
        self,
        metadata: ModelMetadata,
        predictor: Predictor,
        flavor: Flavor,
        path: Path,
        model_uri: str | None = None,
    ) -> None:
        self.metadata = metadata
        self.path = path
        self.model_uri = model_uri if model_uri is not None else str(path)
        self.loader_module = flavor.loader_module
        self._predictor = predictor
        self._flavor = flavor

    def __repr__(self) -> str:
        return f"<PyFuncModel {self._flavor.name} from {self.model_uri}>"

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """The model's predictions for ``data`` (ModelSignatureError if it does not fit)."""
        schema = self.metadata.get_input_schema()
        data = enforce(data, schema) if schema else as_frame(data)
        return self._predictor.predict(data, params)

    @property
    def input_example(self) -> Any:
        """The input example saved with the model (None without one)."""
        return load_example(self.path, self.metadata.saved_input_example_info)

    def get_raw_model(self) -> Any:
        """The native model object behind this wrapper."""
        return self._flavor.raw(self._predictor)

    def unwrap_python_model(self) -> Any:
        """The PythonModel instance of a generic Python model."""
        model = getattr(self._predictor, "python_model", None)
        if model is None:
            raise TypeError(
                f"this is a {self._flavor.name} model, not a PythonModel; use get_raw_model()"
            )
        return model
