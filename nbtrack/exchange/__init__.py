"""Carrying runs in and out of a store: Parquet export and import, MLflow import.

* :func:`export` writes runs as one wide Parquet file (``*.parquet``) or as a bundle folder;
* :func:`import_runs` adds a bundle's runs to the current store (skipping the ones it has);
* :func:`import_mlflow` brings runs over from an MLflow file or sqlite tracking store.
"""

from .bundle import import_runs
from .exporting import export
from .mlflow import import_mlflow

__all__ = ["export", "import_mlflow", "import_runs"]
