"""MLflow's exception classes, as nbtrack errors.

::

    NbtrackError
    └── MlflowException               what nbtrack.mlflow raises (``error_code`` as MLflow's)
        ├── NotSupportedError         MLflow API without an nbtrack mapping: says the nbtrack way
        └── <translated errors>       an nbtrack error raised through nbtrack.mlflow, e.g.
                                      RunNotFoundError, is re-raised as a class deriving from
                                      both, so ``except MlflowException`` and
                                      ``except nbtrack.RunNotFoundError`` both catch it

>>> from nbtrack.errors import RunNotFoundError
>>> err = translate(RunNotFoundError("no run 'abc'"))
>>> isinstance(err, MlflowException), isinstance(err, RunNotFoundError), err.error_code
(True, True, 'RESOURCE_DOES_NOT_EXIST')
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import (
    FilterError,
    InactiveRunError,
    ModelNotFoundError,
    ModelSignatureError,
    NbtrackError,
    RegistryError,
    RunNotFoundError,
)

INTERNAL_ERROR = "INTERNAL_ERROR"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
INVALID_STATE = "INVALID_STATE"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"

# MLflow's error code for each kind of nbtrack error (the most specific class wins).
_CODES: tuple[tuple[type[NbtrackError], str], ...] = (
    (RunNotFoundError, RESOURCE_DOES_NOT_EXIST),
    (ModelNotFoundError, RESOURCE_DOES_NOT_EXIST),
    (FilterError, INVALID_PARAMETER_VALUE),
    (ModelSignatureError, INVALID_PARAMETER_VALUE),
    (RegistryError, INVALID_PARAMETER_VALUE),
    (InactiveRunError, INVALID_STATE),
)


class MlflowException(NbtrackError):
    """MLflow's base exception: ``message`` and ``error_code`` (``INVALID_STATE``, ...)."""

    def __init__(self, message: Any, error_code: str = INTERNAL_ERROR, **kwargs: Any) -> None:
        self.message = str(message)
        self.error_code = error_code
        self.json_kv = kwargs
        super().__init__(self.message)

    @classmethod
    def invalid_parameter_value(cls, message: str, **kwargs: Any) -> MlflowException:
        return cls(message, error_code=INVALID_PARAMETER_VALUE, **kwargs)


class NotSupportedError(MlflowException):
    """Part of MLflow's API that nbtrack does not offer; the message names the nbtrack way."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=NOT_IMPLEMENTED)


class MissingAttributeError(NotSupportedError, AttributeError):
    """``nbtrack.mlflow.<name>`` for a name MLflow has and nbtrack.mlflow does not.

    Also an AttributeError, so ``hasattr`` and tools that probe modules keep working; code
    that uses the name gets the message.
    """


class RestException(MlflowException):
    """MLflow's error for a tracking server's reply; nbtrack has no server, so never raised."""


class MlflowTracingException(MlflowException):
    """MLflow's tracing error; nbtrack has no tracing, so never raised."""


_translated: dict[type[BaseException], type[MlflowException]] = {}


def translate(err: NbtrackError) -> MlflowException:
    """``err`` as an instance of a class deriving from both MlflowException and its own class,
    with the same message and attributes."""
    if isinstance(err, MlflowException):
        return err
    kind = type(err)
    cls = _translated.get(kind)
    if cls is None:
        cls = _translated[kind] = type(kind.__name__, (MlflowException, kind), {
            "__module__": kind.__module__, "__init__": MlflowException.__init__,
        })  # fmt: skip
    code = next((c for k, c in _CODES if isinstance(err, k)), INTERNAL_ERROR)
    new = cls.__new__(cls)
    new.__dict__.update(err.__dict__)
    new.args = err.args
    new.message, new.error_code, new.json_kv = str(err), code, {}
    new.__traceback__ = err.__traceback__
    return new


F = TypeVar("F", bound=Callable[..., Any])


def mlflow_errors(func: F) -> F:
    """Re-raise nbtrack errors escaping ``func`` as MlflowException (see :func:`translate`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MlflowException:
            raise
        except NbtrackError as err:
            raise translate(err).with_traceback(err.__traceback__) from None

    return wrapper  # type: ignore[return-value]
