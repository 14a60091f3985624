"""Package attributes imported on first use (PEP 562): importing a package stays cheap, and a
name costs its module's import only when it is used."""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from importlib import import_module
from typing import Any


def load(
    package: str, name: str, names: Mapping[str, str], submodules: Collection[str] = ()
) -> Any:
    """Attribute ``name`` of ``package``: its submodule ``name`` (one of ``submodules``), or
    ``name`` from the submodule that ``names`` maps it to, kept in the package for next time;
    AttributeError for any other name.

    >>> load("nbtrack", "compact", {"compact": "store.compaction"}).__name__
    'compact'
    """
    if name in submodules:
        value = import_module(f".{name}", package)
    elif name in names:
        value = getattr(import_module(f".{names[name]}", package), name)
    else:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    setattr(sys.modules[package], name, value)
    return value
