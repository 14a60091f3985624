"""What ``run.log_input`` records of a dataset: a name, a content digest, the schema, the row
count and where it came from. The data itself is never copied.

The digest depends only on the content (column names, types and values; a file's bytes), so
the same data gives the same digest in any process, and two runs trained on different data
under the same name are told apart. A pandas DataFrame and the Arrow or polars table of the
same data get the same digest.

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.5, 2.5]})
>>> info = describe(frame, name="toy")
>>> info["name"], info["num_rows"], info["schema"], len(info["digest"])
('toy', 3, '{"x": "int64", "y": "float64"}', 16)
>>> describe(frame.copy())["digest"] == info["digest"]
True
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

# Hex characters of the sha256 kept: 64 bits, ample to tell datasets of one project apart.
DIGEST_CHARS = 16
DEFAULT_NAME = "dataset"
_CHUNK = 1 << 20


def describe(data: Any, name: str | None = None, source: str | None = None) -> dict[str, Any]:
    """The ``inputs`` row of ``data`` (without run and time): name, digest, schema (JSON),
    num_rows and source. ``data``: a pandas DataFrame or Series, a polars DataFrame, an Arrow
    table, a numpy array, or a path to a file or folder (a URI such as ``s3://…`` is recorded
    by its text). Raises TypeError for anything else, FileNotFoundError for a missing path."""
    if isinstance(data, (str, Path)):
        return _describe_location(data, name, source)
    frame = _as_pandas(data)
    if frame is not None:
        schema: dict[str, Any] = {str(c): str(t) for c, t in frame.dtypes.items()}
        digest = _frame_digest(frame)
        rows: int | None = len(frame)
    elif type(data).__module__ == "numpy":
        schema = {"dtype": str(data.dtype), "shape": list(data.shape)}
        digest = _hash(json.dumps(schema).encode(), data.tobytes(order="C"))
        rows = int(data.shape[0]) if data.ndim else None
    else:
        raise TypeError(
            f"log_input takes a pandas or polars DataFrame, an Arrow table, a numpy array or a "
            f"path; got {type(data).__name__}"
        )
    return {"name": name or DEFAULT_NAME, "digest": digest, "schema": json.dumps(schema),
            "num_rows": rows, "source": source}  # fmt: skip


def _as_pandas(data: Any) -> Any:
    """``data`` as a pandas DataFrame when it is a table of some kind, else None."""
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        import pandas as pd

        if isinstance(data, pd.Series):
            return data.to_frame()
        return data if isinstance(data, pd.DataFrame) else None
    if module == "polars" and hasattr(data, "to_arrow"):
        return data.to_arrow().to_pandas()
    if module == "pyarrow" and hasattr(data, "to_pandas") and hasattr(data, "schema"):
        return data.to_pandas()
    return None


def _frame_digest(frame: Any) -> str:
    import pandas as pd

    header = json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode()
    try:
        values = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): hash their text instead
        values = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    return _hash(header, values.tobytes())


def _describe_location(
    location: str | Path, name: str | None, source: str | None
) -> dict[str, Any]:
    text = str(location)
    if "://" in text and not Path(text).exists():  # a remote dataset: known by its address
        return {"name": name or text.rstrip("/").rsplit("/", 1)[-1] or DEFAULT_NAME,
                "digest": _hash(text.encode()), "schema": None, "num_rows": None,
                "source": source or text}  # fmt: skip
    path = Path(location).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"cannot log input {text!r}: no such file or folder")
    folder = path.is_dir()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if folder else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() if folder else b"")
        with open(file, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    return {"name": name or path.resolve().name, "digest": digest.hexdigest()[:DIGEST_CHARS],
            "schema": None, "num_rows": None, "source": source or str(path.resolve())}  # fmt: skip


def _hash(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:DIGEST_CHARS]
