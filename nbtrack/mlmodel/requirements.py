"""``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``: the packages a model needs,
pinned to the versions in use (looked up in installed metadata: nothing is imported or run).

>>> pinned(["cloudpickle"])[0].startswith("cloudpickle==")
True
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def pinned(packages: Iterable[str | Sequence[str]]) -> list[str]:
    """``name==version`` for each installed package; an entry may list alternative
    distributions of one module (``("xgboost", "xgboost-cpu")``): the first installed wins."""
    out = []
    for entry in packages:
        names = [entry] if isinstance(entry, str) else list(entry)
        for name in names:
            version = _version(name)
            if version is not None:
                out.append(f"{name}=={version}")
                break
        else:
            out.append(names[0])
    return out


def requirements(
    defaults: list[str], pip_requirements: Iterable[str] | str | None,
    extra_pip_requirements: Iterable[str] | str | None,
) -> list[str]:  # fmt: skip
    """The model's requirement lines: ``pip_requirements`` replaces the defaults, extras add.
    Either may be a list of lines or the path of a requirements file."""

    def lines(value: Iterable[str] | str) -> list[str]:
        if isinstance(value, (str, Path)):
            text = Path(value).read_text()
            return [ln.strip() for ln in text.splitlines() if ln.strip() and ln[0] != "#"]
        return [str(v) for v in value]

    base = lines(pip_requirements) if pip_requirements is not None else defaults
    extra = lines(extra_pip_requirements) if extra_pip_requirements is not None else []
    return list(dict.fromkeys([*base, *extra]))


def write_environment(folder: Path, lines: list[str]) -> None:
    """Write the three environment files MLflow writes."""
    python = platform.python_version()
    pip = _version("pip")
    (folder / REQUIREMENTS_FILE).write_text("\n".join(lines))
    build = [f"pip=={pip}" if pip else "pip"]
    setuptools = _version("setuptools")
    build += [f"setuptools=={setuptools}" if setuptools else "setuptools", "wheel"]
    env = {"python": python, "build_dependencies": build, "dependencies": ["-r requirements.txt"]}
    (folder / PYTHON_ENV_FILE).write_text(yaml.safe_dump(env, sort_keys=False))
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", f"pip<={pip}" if pip else "pip", {"pip": lines}],
        "name": "mlflow-env",
    }
    (folder / CONDA_FILE).write_text(yaml.safe_dump(conda, sort_keys=False))
