"""Reversible patches and post-import hooks, shared by the per-library autolog modules.

A :class:`Patches` records what each attribute was (or that it was absent) before replacing
it, so :meth:`Patches.restore` puts back the very same objects.

>>> class Model:
...     def fit(self):
...         return "fitted"
>>> original = Model.__dict__["fit"]
>>> patches = Patches()
>>> patches.set(Model, "fit", lambda self: "patched")
>>> Model().fit()
'patched'
>>> patches.restore()
>>> Model.__dict__["fit"] is original
True
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

_ABSENT = object()


class Patches:
    """Attributes replaced on classes or modules, restorable exactly."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        """Set ``owner.name = value``, remembering the attribute of ``owner``'s own namespace
        (not an inherited one) to restore."""
        self._saved.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, value)

    def restore(self) -> None:
        """Put every attribute back as it was, newest patch first (idempotent)."""
        while self._saved:
            owner, name, original = self._saved.pop()
            if original is _ABSENT:
                if name in vars(owner):
                    delattr(owner, name)
            else:
                setattr(owner, name, original)

    def __len__(self) -> int:
        return len(self._saved)


# ---- running a callback once a module is imported --------------------------------------------
_hooks: dict[str, list[Callable[[ModuleType], None]]] = {}
_hooks_lock = threading.RLock()


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` now if the top-level module ``name`` is imported, else right
    after its first import (so enabling autolog does not import the library)."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    with _hooks_lock:
        _hooks.setdefault(name, []).append(callback)
        if not any(isinstance(f, _Finder) for f in sys.meta_path):
            sys.meta_path.insert(0, _Finder())


def cancel_hooks() -> None:
    """Forget every pending :func:`when_imported` callback."""
    with _hooks_lock:
        _hooks.clear()
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of a watched module so its hooks run after it."""

    def __init__(self) -> None:
        self._busy = threading.local()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _hooks or getattr(self._busy, "on", False):
            return None
        self._busy.on = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        finally:
            self._busy.on = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _Loader(spec.loader)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__.loader = module.__loader__ = self._loader  # type: ignore[union-attr]
        self._loader.exec_module(module)
        with _hooks_lock:
            callbacks = _hooks.pop(module.__name__, [])
            if not _hooks:
                sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]
        for callback in callbacks:
            callback(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, …
        return getattr(self._loader, name)
