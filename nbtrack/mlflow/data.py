"""``mlflow.data``: datasets to record with ``mlflow.log_input`` (nbtrack's ``log_input``).

>>> import pandas as pd
>>> dataset = from_pandas(pd.DataFrame({"x": [1, 2]}), source="wine.csv", name="wine")
>>> dataset.name, dataset.source
('wine', 'wine.csv')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._unsupported import module_getattr


@dataclass
class Dataset:
    """A dataset as ``from_pandas`` / ``from_numpy`` make it: the data, a name and a source."""

    data: Any
    name: str | None = None
    source: str | None = None
    targets: str | None = None

    @property
    def df(self) -> Any:
        return self.data

    @property
    def features(self) -> Any:
        return self.data


def _source(source: Any) -> str | None:
    if source is None:
        return None
    uri = getattr(source, "uri", None) or getattr(source, "url", None)
    return str(uri if uri is not None else source)


def from_pandas(
    df: Any,
    source: Any = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> Dataset:
    """A pandas DataFrame as a dataset (nbtrack computes the digest itself)."""
    return Dataset(df, name, _source(source), targets)


def from_numpy(
    features: Any,
    source: Any = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> Dataset:
    """A numpy array as a dataset."""
    return Dataset(features, name, _source(source), None)


def from_polars(df: Any, source: Any = None, targets: str | None = None,
                name: str | None = None, digest: str | None = None) -> Dataset:  # fmt: skip
    return Dataset(df, name, _source(source), targets)


def unwrap(dataset: Any) -> tuple[Any, str | None, str | None]:
    """(data, name, source) of a dataset given to ``log_input``: one of ours, MLflow's own
    (``.df`` / ``.features``, ``.name``, ``.source``), or a DataFrame, array or path."""
    if isinstance(dataset, Dataset):
        return dataset.data, dataset.name, dataset.source
    for attribute in ("df", "features"):
        data = getattr(dataset, attribute, None)
        if data is not None:
            return data, getattr(dataset, "name", None), _source(getattr(dataset, "source", None))
    return dataset, None, None


__getattr__ = module_getattr(__name__, {})
