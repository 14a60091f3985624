"""What the registry accepts as a model name, an alias, a stage, a version and a tag."""

from __future__ import annotations

import re
from typing import Any

from ..errors import RegistryError

# MLflow's stages, in the order MLflow lists a model's latest versions.
STAGES = ("None", "Staging", "Production", "Archived")
_STAGES = {stage.lower(): stage for stage in STAGES}
# Characters a model name cannot hold: path separators (a name is a folder of the store), "@"
# (it starts an alias in models:/name@alias) and control characters.
_BAD_NAME = re.compile(r"[/\\@\x00-\x1f]")
_ALIAS = re.compile(r"[A-Za-z_][\w\-]*")
MAX_LENGTH = 256


def check_name(name: Any) -> str:
    """``name`` if it can name a registered model, else RegistryError saying why.

    >>> check_name("wine-classifier")
    'wine-classifier'
    >>> check_name("wine/v2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    nbtrack.errors.RegistryError: model name 'wine/v2' cannot contain '/', ...; e.g. 'wine-v2'
    """
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(
            f"a registered model needs a name (a non-empty string such as 'wine'), not {name!r}"
        )
    if _BAD_NAME.search(name):
        suggestion = re.sub(r"[/\\@\x00-\x1f]+", "-", name)
        raise RegistryError(
            f"model name {name!r} cannot contain '/', '\\', '@' or control characters; "
            f"e.g. {suggestion!r}"
        )
    if name in (".", "..") or name != name.strip() or len(name) > MAX_LENGTH:
        raise RegistryError(
            f"model name {name!r} is not usable: use a name without leading or trailing spaces, "
            f"at most {MAX_LENGTH} characters, other than '.' and '..'"
        )
    return name


def check_alias(alias: Any) -> str:
    """``alias`` if it can be an alias (letters, digits, ``_`` and ``-``, not starting with a
    digit, not ``latest`` nor a version like ``v3``), else RegistryError.

    >>> check_alias("champion")
    'champion'
    """
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias) or len(alias) > MAX_LENGTH:
        raise RegistryError(
            f"alias {alias!r} is not valid: use letters, digits, '_' and '-', starting with a "
            "letter, e.g. 'champion'"
        )
    if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise RegistryError(
            f"alias {alias!r} is reserved: models:/<name>/latest and version numbers already "
            "mean something; choose another name, e.g. 'champion'"
        )
    return alias


def check_stage(stage: Any) -> str:
    """MLflow's spelling of ``stage`` (any case; None means the stage ``None``), or
    RegistryError.

    >>> check_stage("production"), check_stage(None)
    ('Production', 'None')
    """
    if stage is None:
        return "None"
    found = _STAGES.get(stage.lower()) if isinstance(stage, str) else None
    if found is None:
        raise RegistryError(f"unknown stage {stage!r}; use one of {', '.join(STAGES)} (any case)")
    return found


def is_stage(text: str) -> bool:
    """Whether ``text`` names a stage (any case).

    >>> is_stage("STAGING"), is_stage("champion")
    (True, False)
    """
    return text.lower() in _STAGES


def check_version(version: Any) -> int:
    """``version`` (an int, or text of one such as ``"3"``) as an int, or RegistryError.

    >>> check_version("3")
    3
    """
    if isinstance(version, bool):
        version = None
    try:
        number = int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = 0
    if number < 1 or (isinstance(version, float) and version != number):
        raise RegistryError(f"a model version is a whole number from 1, not {version!r}")
    return number


def check_tag(key: Any, value: Any = "") -> tuple[str, str]:
    """A tag's key and value as text (values are stored as text, like MLflow's), or
    RegistryError for an empty key.

    >>> check_tag("team", 7)
    ('team', '7')
    """
    if not isinstance(key, str) or not key:
        raise RegistryError(f"a tag key must be a non-empty string, not {key!r}")
    return key, value if isinstance(value, str) else str(value)
