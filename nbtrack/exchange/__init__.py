"""Carrying runs in and out of a store: Parquet export and import, and moving in from other
trackers.

* :func:`export` writes runs as one wide Parquet file (``*.parquet``) or as a bundle folder;
* :func:`import_runs` adds a bundle's runs to the current store (skipping the ones it has);
* :func:`import_mlflow`, :func:`import_tensorboard`, :func:`import_wandb`,
  :func:`import_trackio` and :func:`import_csv` bring runs over from other trackers' files;
* :func:`export_mlflow` copies runs into an MLflow tracking store or server;
* :func:`sync` copies what one store (a folder or a bucket) lacks from another.
"""

from .bundle import import_runs
from .csv_import import import_csv
from .exporting import export
from .mlflow import import_mlflow
from .mlflow_export import export_mlflow
from .syncing import sync
from .tensorboard import import_tensorboard
from .trackio import import_trackio
from .wandb import import_wandb

__all__ = [
    "export", "export_mlflow", "import_csv", "import_mlflow", "import_runs", "import_tensorboard",
    "import_trackio", "import_wandb", "sync",
]  # fmt: skip
