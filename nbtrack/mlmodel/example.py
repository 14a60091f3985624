"""Input examples: saved as ``input_example.json`` (and ``serving_input_example.json``, the
request body that scores it) the way MLflow saves them, and read back.

>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> info = save_example(pd.DataFrame({"a": [1.5]}), folder)
>>> info["type"], load_example(folder, info).to_dict("list")
('dataframe', {'a': [1.5]})
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

EXAMPLE_FILE = "input_example.json"
SERVING_FILE = "serving_input_example.json"


def _default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot save a {type(value).__name__} in an input example")


def save_example(example: Any, folder: Path) -> dict[str, Any]:
    """Write ``example`` into ``folder``; the ``saved_input_example_info`` of the MLmodel file."""
    import numpy as np
    import pandas as pd

    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE}
    if isinstance(example, pd.Series):
        example = example.to_frame()
    if isinstance(example, pd.DataFrame):
        data: Any = json.loads(example.to_json(orient="split", index=False, date_format="iso"))
        serving: Any = {"dataframe_split": data}
        info.update(type="dataframe", pandas_orient="split")
    elif isinstance(example, np.ndarray) or (
        isinstance(example, dict) and example and
        all(isinstance(v, np.ndarray) for v in example.values())
    ):  # fmt: skip
        data, serving = example, {"inputs": example}
        info["type"] = "ndarray"
    elif isinstance(example, (dict, list)) or np.isscalar(example):
        data, serving = example, {"inputs": example}
        info["type"] = "json_object"
    else:
        raise TypeError(
            f"input_example must be a DataFrame, numpy array, dict, list or scalar; got "
            f"{type(example).__name__}"
        )
    (folder / EXAMPLE_FILE).write_text(json.dumps(data, default=_default))
    (folder / SERVING_FILE).write_text(json.dumps(serving, default=_default, indent=2))
    info["serving_input_path"] = SERVING_FILE
    return info


def load_example(folder: Path, info: dict[str, Any] | None) -> Any:
    """The example saved in ``folder`` (None if there is none)."""
    if not info:
        return None
    import numpy as np
    import pandas as pd

    data = json.loads((folder / info.get("artifact_path", EXAMPLE_FILE)).read_text())
    kind = info.get("type")
    if kind == "dataframe":
        if info.get("pandas_orient", "split") == "split":
            return pd.DataFrame(data["data"], columns=data.get("columns"))
        return pd.DataFrame(data)
    if kind == "ndarray":
        if isinstance(data, dict):
            return {k: np.asarray(v) for k, v in data.items()}
        return np.asarray(data)
    return data
