"""MLflow's MLproject folders: entry points, their typed parameters, and the commands they run.

::

    <folder>/MLproject           name, environment, entry points (YAML; optional)
    <folder>/python_env.yaml     the environment of ``--env-manager venv`` (see ``venv.py``)
    <folder>/train.py, run.sh    runnable as entry points ``train.py``, ``run.sh`` as they are

An MLproject file reads like MLflow's::

    name: wine
    python_env: python_env.yaml
    entry_points:
      main:
        parameters:
          alpha: {type: float, default: 0.5}
          data: path                          # a type alone: required
        command: "python train.py --alpha {alpha} --data {data}"

Parameter types are MLflow's (``string``, ``float``, ``path``, ``uri``) and ``int``. Commands
run in the project folder. Parameters given but not declared are passed on as ``--name value``.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "MLproject").write_text('''
... name: demo
... entry_points:
...   main:
...     parameters: {alpha: {type: float, default: 0.5}, tag: string}
...     command: "python train.py --alpha {alpha} --tag {tag}"
... ''')
>>> main = load_project(folder).entry_point()
>>> values = main.resolve({"tag": "first try", "seed": 3})
>>> values
{'alpha': 0.5, 'tag': 'first try', 'seed': 3}
>>> main.command_line(values)
"python train.py --alpha 0.5 --tag 'first try' --seed 3"
"""

from __future__ import annotations

import json
import math
import numbers
import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ProjectError
from ..mlmodel.requirements import CONDA_FILE, PYTHON_ENV_FILE

MLPROJECT_FILE = "MLproject"  # found whatever its case, as MLflow does
TYPES = ("string", "float", "int", "path", "uri")
# Files runnable as entry points without being declared (MLflow's rule), and what runs them.
FILE_RUNNERS = {".py": "python", ".sh": "bash"}
ENV_FIELDS = ("python_env", "conda_env", "docker_env")


@dataclass(frozen=True)
class Parameter:
    """An entry point's parameter: its ``type`` (one of :data:`TYPES`) and ``default`` (None:
    the parameter is required)."""

    name: str
    type: str = "string"
    default: Any | None = None


@dataclass(frozen=True)
class EntryPoint:
    """A command with typed parameters; ``root`` is the project folder, against which ``path``
    parameters are resolved."""

    name: str
    parameters: dict[str, Parameter]
    command: str
    root: Path = field(default=Path("."))

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The values to run with: ``given`` checked against the declared types, defaults
        filled in, undeclared ones kept as they are (passed on as ``--name value``). A value of
        None counts as not given.

        ``float`` takes a number or a numeric string, ``int`` an integer or an integer string,
        ``path`` becomes absolute (relative ones are inside the project folder), ``uri`` stays
        as it is, ``string`` becomes a string.

        >>> ep = EntryPoint("main", {"n": Parameter("n", "int")}, "python fit.py -n {n}")
        >>> ep.resolve({"n": "3"})
        {'n': 3}
        >>> ep.resolve({})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        nbtrack.errors.ProjectError: entry point 'main' needs parameter 'n' (int), which was ...
        """
        values: dict[str, Any] = {}
        for name, param in self.parameters.items():
            value = given.get(name)
            if value is None:
                if param.default is None:
                    raise ProjectError(
                        f"entry point {self.name!r} needs parameter {name!r} ({param.type}), "
                        f"which was not given; pass it as -P {name}=VALUE"
                    )
                values[name] = self._typed(param, param.default, "its default")
            else:
                values[name] = self._typed(param, value, "the value given")
        for name, value in given.items():
            if name not in self.parameters and value is not None:
                values[name] = value
        return values

    def command_line(self, values: Mapping[str, Any]) -> str:
        """The shell command with ``values`` (from :meth:`resolve`) in place of its ``{name}``
        placeholders, each shell-quoted, and the undeclared ones appended as ``--name value``.

        >>> ep = EntryPoint("main", {"msg": Parameter("msg")}, "echo {msg}")
        >>> ep.command_line({"msg": "a; rm -rf /", "n": 2})
        "echo 'a; rm -rf /' --n 2"
        """
        missing = [name for name in self.parameters if name not in values]
        if missing:
            raise ProjectError(
                f"no value for {', '.join(map(repr, missing))} of entry point {self.name!r}; "
                "pass the values through EntryPoint.resolve(...) first"
            )
        quoted = {name: shlex.quote(_text(values[name])) for name in self.parameters}
        words = [self.command.format_map(quoted)]
        for name, value in values.items():
            if name not in self.parameters:
                words += [f"--{shlex.quote(str(name))}", shlex.quote(_text(value))]
        return " ".join(words)

    def _typed(self, param: Parameter, value: Any, origin: str) -> Any:
        kind = param.type
        if kind == "string":
            return value if isinstance(value, str) else _text(value)
        if kind == "uri":
            return str(value)
        if kind == "path":
            if not isinstance(value, (str, Path)):
                raise self._wrong(
                    param, value, origin, f"a path, e.g. -P {param.name}=data/train.csv"
                )
            return str((self.root / Path(value).expanduser()).resolve())
        number = _number(value, integer=kind == "int")
        if number is None:
            example = "-P {0}=3" if kind == "int" else "-P {0}=0.5"
            need = "an integer" if kind == "int" else "a number"
            raise self._wrong(param, value, origin, f"{need}, e.g. {example.format(param.name)}")
        return number

    def _wrong(self, param: Parameter, value: Any, origin: str, need: str) -> ProjectError:
        return ProjectError(
            f"parameter {param.name!r} of entry point {self.name!r} has type {param.type}, but "
            f"{origin} was {value!r} ({type(value).__name__}); pass {need}"
        )


def _number(value: Any, integer: bool) -> float | int | None:
    """``value`` as a float (or an int when ``integer``), or None when it is not one. Numbers
    of any kind count (numpy's too); strings are parsed; booleans are not numbers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text) if integer else float(text)
        except ValueError:
            return None
    if isinstance(value, numbers.Integral):
        return int(value) if integer else float(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not integer:
            return number
        return int(number) if math.isfinite(number) and number.is_integer() else None
    return None


def _text(value: Any) -> str:
    """A value as one command-line word: containers as JSON, anything else as ``str``."""
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


@dataclass(frozen=True)
class Project:
    """An MLproject folder (with or without an MLproject file)."""

    name: str
    root: Path
    entry_points: dict[str, EntryPoint]
    python_env: Path | None = None
    conda_env: Path | None = None
    docker_env: dict[str, Any] | None = None

    def entry_point(self, name: str = "main") -> EntryPoint:
        """The entry point ``name``: a declared one, or a ``.py`` / ``.sh`` file in the folder
        (``train.py`` runs as ``python train.py``, every parameter passed as ``--name value``).

        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "train.py").write_text("print('hi')")
        >>> load_project(folder).entry_point("train.py").command_line({"lr": 0.1})
        'python train.py --lr 0.1'
        """
        if name in self.entry_points:
            return self.entry_points[name]
        runner = FILE_RUNNERS.get(Path(name).suffix)
        if runner is not None and (self.root / name).is_file():
            return EntryPoint(name, {}, f"{runner} {shlex.quote(name)}", self.root)
        declared = ", ".join(self.entry_points) or "none declared"
        files = sorted(
            p.name for p in self.root.iterdir() if p.suffix in FILE_RUNNERS and p.is_file()
        )
        scripts = f" ({', '.join(files)})" if files else ""
        raise ProjectError(
            f"project {self.name!r} ({self.root}) has no entry point {name!r}; its entry "
            f"points: {declared}; or name a .py or .sh file in the folder{scripts}, "
            "e.g. -e train.py"
        )


def is_project(path: str | Path) -> bool:
    """Whether ``path`` can be run as a project: any folder, with or without an MLproject file.

    >>> import tempfile
    >>> is_project(Path(tempfile.mkdtemp())), is_project(Path("train.py"))
    (True, False)
    """
    return Path(path).is_dir()


def load_project(folder: str | Path) -> Project:
    """The project in ``folder``: its MLproject file's name, entry points and environment,
    or, without one, a project named after the folder whose ``.py`` and ``.sh`` files are its
    entry points. As in MLflow, a ``python_env.yaml`` or ``conda.yaml`` in the folder is its
    environment unless the MLproject file names one.

    >>> import tempfile
    >>> load_project(tempfile.mkdtemp()).entry_points
    {}
    """
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        what = "a file, not a folder" if root.exists() else "no such folder"
        raise ProjectError(
            f"cannot load a project from {folder}: {what}; pass the project's folder (the one "
            "holding its MLproject file or scripts)"
        )
    source = next((p for p in root.iterdir() if p.name.lower() == "mlproject"), None)
    spec = _read_yaml(source) if source is not None else {}
    where = f"{source}" if source is not None else str(root)

    envs = [key for key in ENV_FIELDS if spec.get(key) is not None]
    if len(envs) > 1:
        raise ProjectError(
            f"{where} declares more than one environment ({', '.join(envs)}); keep one of them"
        )
    python_env = _env_file(root, spec.get("python_env"), "python_env", where)
    conda_env = _env_file(root, spec.get("conda_env"), "conda_env", where)
    docker_env = spec.get("docker_env")
    if docker_env is not None and not (isinstance(docker_env, dict) and docker_env.get("image")):
        raise ProjectError(
            f"docker_env in {where} needs an image, e.g. docker_env: {{image: python:3.11}}"
        )
    if not envs:  # MLflow's defaults: the environment files that are there
        if (root / PYTHON_ENV_FILE).is_file():
            python_env = root / PYTHON_ENV_FILE
        elif (root / CONDA_FILE).is_file():
            conda_env = root / CONDA_FILE

    name = spec.get("name")
    entry_points = spec.get("entry_points") or {}
    if not isinstance(entry_points, dict):
        raise ProjectError(
            f"entry_points in {where} must be a mapping of names to {{parameters, command}}, "
            f"got {type(entry_points).__name__}"
        )
    return Project(
        name=str(name) if name is not None else root.name,
        root=root,
        entry_points={
            str(key): _entry_point(str(key), value, root, where)
            for key, value in entry_points.items()
        },
        python_env=python_env,
        conda_env=conda_env,
        docker_env=docker_env,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or err
        raise ProjectError(
            f"{path} is not valid YAML{at}: {problem}; fix the file (MLflow's MLproject format)"
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise ProjectError(f"cannot read {path}: {err}; check the file") from err
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise ProjectError(
            f"{path} must be a YAML mapping (name, entry_points, ...), got {type(spec).__name__}"
        )
    return spec


def _env_file(root: Path, value: Any, key: str, where: str) -> Path | None:
    if value is None:
        return None
    path = root / str(value)
    if not path.is_file():
        raise ProjectError(
            f"{where} names {key} {value!r}, but there is no such file in {root}; "
            f"add it or correct {key}"
        )
    return path


def _entry_point(name: str, spec: Any, root: Path, where: str) -> EntryPoint:
    if not isinstance(spec, dict) or not isinstance(spec.get("command"), str):
        raise ProjectError(
            f"entry point {name!r} in {where} needs a command, e.g. "
            f'{name}: {{command: "python train.py"}}'
        )
    declared = spec.get("parameters") or {}
    if not isinstance(declared, dict):
        raise ProjectError(
            f"parameters of entry point {name!r} in {where} must be a mapping of names to a "
            "type or {type, default}"
        )
    parameters = {
        str(key): _parameter(str(key), value, name, where) for key, value in declared.items()
    }
    command: str = spec["command"]
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(command) if f is not None]
    except ValueError as err:
        raise ProjectError(
            f"the command of entry point {name!r} in {where} is malformed ({err}); write "
            "parameters as {name} and a literal brace as {{ or }}"
        ) from err
    unknown = [f for f in fields if f not in parameters]
    if unknown:
        raise ProjectError(
            f"the command of entry point {name!r} in {where} uses {{{unknown[0]}}}, which is "
            f"not one of its parameters ({', '.join(parameters) or 'none'}); declare it under "
            "parameters or write a literal brace as {{ or }}"
        )
    entry_point = EntryPoint(name, parameters, command, root)
    for param in parameters.values():  # a bad default is the file's fault: say so at once
        if param.default is not None:
            entry_point._typed(param, param.default, f"its default in {where}")
    return entry_point


def _parameter(name: str, spec: Any, entry: str, where: str) -> Parameter:
    if isinstance(spec, str):
        kind, default = spec, None
    elif isinstance(spec, dict):
        kind, default = str(spec.get("type", "string")), spec.get("default")
    else:
        raise ProjectError(
            f"parameter {name!r} of entry point {entry!r} in {where} must be a type name or "
            f"{{type, default}}, got {spec!r}"
        )
    if kind not in TYPES:
        raise ProjectError(
            f"parameter {name!r} of entry point {entry!r} in {where} has unknown type "
            f"{kind!r}; use one of {', '.join(TYPES)}"
        )
    return Parameter(name, kind, default)
