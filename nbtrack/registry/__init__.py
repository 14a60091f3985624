"""The model registry: named models with numbered versions, stages and aliases, in the store.

Registered models live in the store as two append-only tables, ``model_versions`` (one row per
version ever registered) and ``registry_events`` (every later change), so the registry has the
store's guarantees: many processes, no server, crash-safe. ``nbtrack.sql`` queries its current
state as the views ``registered_models`` and ``model_versions``.

* :func:`register_model`, :func:`create_registered_model`: versions are dense and unique per
  name across processes; a deleted version's number is never given again;
* :func:`set_alias` / :func:`delete_alias` (``models:/wine@champion``) and
  :func:`transition_stage` (``models:/wine/Production``);
* :func:`set_model_tag`, :func:`delete_model_tag`, :func:`update_description`;
* :func:`delete_model_version`, :func:`delete_registered_model`;
* :func:`get_registered_model`, :func:`get_model_version`, :func:`get_model_version_by_alias`,
  :func:`get_latest_versions`, :func:`search_registered_models`, :func:`search_model_versions`;
* :func:`resolve`: what a ``models:/`` URI means.
"""

from .reading import (
    get_latest_versions,
    get_model_version,
    get_model_version_by_alias,
    get_registered_model,
    resolve,
)
from .records import ModelVersion, RegisteredModel
from .search import search_model_versions, search_registered_models
from .writing import (
    create_registered_model,
    delete_alias,
    delete_model_tag,
    delete_model_version,
    delete_registered_model,
    register_model,
    set_alias,
    set_model_tag,
    transition_stage,
    update_description,
)

__all__ = [
    "ModelVersion",
    "RegisteredModel",
    "create_registered_model",
    "delete_alias",
    "delete_model_tag",
    "delete_model_version",
    "delete_registered_model",
    "get_latest_versions",
    "get_model_version",
    "get_model_version_by_alias",
    "get_registered_model",
    "register_model",
    "resolve",
    "search_model_versions",
    "search_registered_models",
    "set_alias",
    "set_model_tag",
    "transition_stage",
    "update_description",
]
