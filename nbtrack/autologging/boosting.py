"""What XGBoost's and LightGBM's autologging share: ``train`` patched wherever the library
holds it, logging params before the training, each iteration through a callback of ours added
to the caller's, and the result after."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from . import session as sessions
from .patching import Patches
from .session import Session, StepLogger

Before = Callable[[Session, Mapping[str, Any]], None]
After = Callable[[Session, StepLogger, Mapping[str, Any], Any], None]


class _Switch:
    """On while the patches are in place: restoring them turns it off, so a ``train`` some
    module imported while autolog was on passes straight through once it is off."""

    on = False


def patch_train(
    module: ModuleType,
    patches: Patches,
    callback: Callable[[StepLogger], Any],
    before: Before,
    after: After,
) -> None:
    """Patch ``train`` in every loaded module of the library ``module`` is (``xgboost``,
    ``xgboost.training``, ``xgboost.sklearn``, …): ``before(session, arguments)`` logs the
    params, ``callback(steps)`` is added to the training's callbacks, and
    ``after(session, steps, arguments, result)`` logs what the training returned."""
    library, original, switch = module.__name__, module.train, _Switch()
    patched = _patched(original, library, switch, callback, before, after)
    for name, loaded in list(sys.modules.items()):
        if loaded is None or not (name == library or name.startswith(f"{library}.")):
            continue
        if vars(loaded).get("train") is original:
            patches.set(loaded, "train", patched)
    patches.set(switch, "on", True)


def _patched(
    original: Callable[..., Any], library: str, switch: _Switch,
    callback: Callable[[StepLogger], Any], before: Before, after: After,
) -> Callable[..., Any]:  # fmt: skip
    signature = inspect.signature(original)
    defaults = {
        name: p.default for name, p in signature.parameters.items() if p.default is not p.empty
    }

    @functools.wraps(original)
    def train(*args: Any, **kwargs: Any) -> Any:
        if not switch.on or sessions.inside():
            return original(*args, **kwargs)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return original(*args, **kwargs)  # the library says what is wrong with the call
        arguments = {**defaults, **bound.arguments}
        session = Session(f"{library}.train")
        steps = StepLogger(session)

        def call() -> Any:
            if session.run is not None:  # the caller's list is not changed
                given = bound.arguments.get("callbacks")
                bound.arguments["callbacks"] = [*(given or ()), callback(steps)]
            return original(*bound.args, **bound.kwargs)

        return session.train(
            call,
            lambda s: before(s, arguments),
            lambda s, result: after(s, steps, arguments, result),
        )

    return train
