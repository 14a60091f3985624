"""W&B's exception classes, as nbtrack errors.

::

    NbtrackError
    └── Error                         what nbtrack.wandb raises (``wandb.Error``)
        ├── UsageError                a call out of order (``wandb.log`` before ``wandb.init``)
        ├── ConfigError               changing a config value without ``allow_val_change``
        └── NotSupportedError         W&B API without an nbtrack mapping: says the nbtrack way
            └── MissingAttributeError ``wandb.<name>`` for a name nbtrack.wandb lacks

>>> import nbtrack.wandb as wandb
>>> issubclass(wandb.errors.UsageError, wandb.Error)
True
"""

from __future__ import annotations

from ..errors import NbtrackError


class Error(NbtrackError):
    """Base of every error nbtrack.wandb raises (W&B's ``wandb.Error``)."""


class UsageError(Error):
    """A call the current state does not allow, e.g. ``wandb.log`` before ``wandb.init``."""


class ConfigError(Error):
    """A config key set again to another value without ``allow_val_change=True``."""


class NotSupportedError(Error):
    """Part of W&B's API that nbtrack does not offer; the message names the nbtrack way."""


class MissingAttributeError(NotSupportedError, AttributeError):
    """``nbtrack.wandb.<name>`` for a name W&B has and nbtrack.wandb does not.

    Also an AttributeError, so ``hasattr`` and tools that probe modules keep working; code
    that uses the name gets the message.
    """
