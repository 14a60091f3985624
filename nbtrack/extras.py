"""Optional dependencies: each lives behind an extra of the package and loads on first use.

A missing one is a single line that names the extra to install, never a bare ImportError.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import NbtrackError


def optional(module: str, feature: str, extra: str) -> ModuleType:
    """Import ``module``, which ``feature`` needs, or say how to install the ``extra`` giving it.

    >>> optional("json", "reading JSON", "json").__name__
    'json'
    >>> optional("no_such_module", "search(output='x')", "x")
    Traceback (most recent call last):
    ...
    nbtrack.errors.NbtrackError: search(output='x') needs no_such_module: pip install 'nbtrack[x]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise missing(module, feature, extra) from err


def missing(module: str, feature: str, extra: str) -> NbtrackError:
    """The error saying that ``feature`` needs ``module``, installed with ``extra``."""
    return NbtrackError(f"{feature} needs {module.split('.')[0]}: pip install 'nbtrack[{extra}]'")
