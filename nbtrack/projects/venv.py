"""Virtual environments for ``--env-manager venv``: one per project environment, built once and
reused while the files it was built from stay the same.

::

    <cache>/<key>                  link to the finished environment (there only once complete)
    <cache>/<key>-<random>/        the environment: bin/python, lib/…, nbtrack-env.json
        nbtrack-link/nbtrack       link to the running nbtrack package (site-packages/_nbtrack.pth)
    <cache>/<key>.lock             held while <key> is built: a second builder waits, then reuses

``<cache>`` is ``$NBTRACK_ENV_CACHE``, else ``$XDG_CACHE_HOME/nbtrack/envs`` (``~/.cache/…``).
``<key>`` hashes what the environment is made of: the project's ``python_env.yaml`` (MLflow's
format; or its ``conda.yaml``'s Python and pip packages; or else its ``requirements.txt``), the
requirement files those name, the Python version and interpreter, and nbtrack's own tracking
requirements. An environment is built in a folder that never moves (a venv's scripts hold its
absolute path) and published by renaming a link onto ``<key>``, so no one sees half of one.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "requirements.txt").write_text("six\\n")
>>> from nbtrack.projects.mlproject import load_project
>>> env_spec(load_project(folder)).dependencies
('-r requirements.txt',)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ProjectError
from ..mlmodel.requirements import REQUIREMENTS_FILE, pinned
from ..store.layout import exclusive_lock
from .mlproject import Project

# What a bare venv needs for `import nbtrack; nbtrack.start_run(); nbtrack.log(x=1);
# nbtrack.flush()` (and params, tags, artifacts, end_run), found by running exactly that in a
# venv holding nothing else: pyarrow writes the Parquet segments and numpy converts their
# timestamps. duckdb, pandas and pyyaml are only needed to query, show or save models, which a
# project's code does not do to log. Pinned to this interpreter's versions, and installed only
# where the project's own requirements have not brought the package already.
TRACKING_REQUIREMENTS = ("pyarrow", "numpy")
MARKER = "nbtrack-env.json"  # written last: an environment without it is incomplete
LINK_DIR = "nbtrack-link"  # holds only the link to nbtrack, so nothing else leaks in
PTH_FILE = "_nbtrack.pth"
PIP_TAIL_LINES = 15  # of pip's output, quoted when it fails
ENV_FORMAT = 1  # part of the key: raise it when environments are laid out differently
NBTRACK_DIR = Path(__file__).resolve().parent.parent  # the package the environments import
# pip resolves these options' files relative to the folder it runs in (the project's)
_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")
_CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
_CONDA_DEP = re.compile(r"^(?P<name>[^=<>!\s]+)\s*(?P<op>==|=|<=|>=|<|>|!=)?\s*(?P<version>\S+)?$")


@dataclass(frozen=True)
class EnvSpec:
    """What a project's environment is made of; ``files`` are read into its key."""

    python: str  # major.minor, e.g. "3.11"
    build_dependencies: tuple[str, ...]
    dependencies: tuple[str, ...]
    source: Path | None  # the file these come from, named in messages
    files: tuple[Path, ...]


def cache_dir() -> Path:
    """The folder holding the environments: ``$NBTRACK_ENV_CACHE``, else
    ``$XDG_CACHE_HOME/nbtrack/envs``, else ``~/.cache/nbtrack/envs``.

    >>> os.environ["NBTRACK_ENV_CACHE"] = "/tmp/envs"
    >>> cache_dir()
    PosixPath('/tmp/envs')
    >>> del os.environ["NBTRACK_ENV_CACHE"]
    """
    override = os.environ.get("NBTRACK_ENV_CACHE")
    if override:
        return Path(override).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "nbtrack" / "envs"


def env_spec(project: Project) -> EnvSpec:
    """What ``project``'s environment is made of: its python_env file (MLflow's format:
    ``python``, ``build_dependencies``, ``dependencies``), else the Python version and pip
    packages of its conda file, else its ``requirements.txt``, else nothing but nbtrack's own
    needs. A version given as ``3.11.4`` asks for any 3.11."""
    if project.python_env is not None:
        source = project.python_env
        data = _read_mapping(source)
        python = _major_minor(data.get("python"), source)
        build = _strings(data.get("build_dependencies"), "build_dependencies", source)
        deps = _strings(data.get("dependencies"), "dependencies", source)
    elif project.conda_env is not None:
        source = project.conda_env
        python, build, deps = _from_conda(source)
    elif (project.root / REQUIREMENTS_FILE).is_file():
        source = project.root / REQUIREMENTS_FILE
        python, build, deps = None, (), (f"-r {REQUIREMENTS_FILE}",)
    else:
        return EnvSpec(_CURRENT, (), (), None, ())
    files = [source.resolve(), *_requirement_files(deps, project.root, source)]
    return EnvSpec(python or _CURRENT, build, deps, source, tuple(dict.fromkeys(files)))


def ensure_env(project: Project) -> Path:
    """The root of ``project``'s virtual environment, built the first time (one line on stderr
    says so) and reused while the files it is made of stay the same. The environment's
    ``python`` imports the project's requirements and nbtrack, and nothing else of this one.

    A ProjectError says what went wrong when it cannot be built: a Python version that is not
    installed, or pip's last lines when a requirement does not install.

    >>> import pathlib, tempfile
    >>> from nbtrack.projects.mlproject import load_project
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "python_env.yaml").write_text('python: "3.99"\\n')
    >>> ensure_env(load_project(folder))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nbtrack.errors.ProjectError: .../python_env.yaml asks for Python 3.99, which is not installed...
    """
    spec = env_spec(project)
    interpreter = _interpreter(spec)
    key = _key(spec, interpreter, project.root)
    cache = cache_dir()
    root = cache / key
    if _ready(root):
        return root
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ProjectError(
            f"cannot create the environment cache {cache}: {err.strerror or err}; make it "
            "writable or point $NBTRACK_ENV_CACHE at another folder"
        ) from err
    with exclusive_lock(cache / f"{key}.lock", f"lock the environment cache {cache}"):
        if not _ready(root):  # else another process built it while this one waited
            _build(project, spec, interpreter, cache, key)
    return root


def env_vars(env_root: Path) -> dict[str, str]:
    """The variables that make a process use the environment at ``env_root``: merge them into
    its environment (``os.environ | env_vars(root)``).

    >>> env = env_vars(Path("/envs/abc"))
    >>> env["VIRTUAL_ENV"], env["PATH"].split(os.pathsep)[0]
    ('/envs/abc', '/envs/abc/bin')
    """
    path = os.environ.get("PATH", "")
    return {
        "VIRTUAL_ENV": str(env_root),
        "PATH": str(env_root / "bin") + (os.pathsep + path if path else ""),
    }


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ProjectError(f"cannot read {path}: {err}; fix the file") from err
    if not isinstance(data, dict):
        raise ProjectError(
            f"{path} must be a YAML mapping (python, build_dependencies, dependencies), got "
            f"{type(data).__name__}"
        )
    return data


def _major_minor(value: Any, source: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):  # `python: 3.10` is the float 3.1 to YAML
        raise ProjectError(
            f'python in {source} must be a quoted version, e.g. python: "3.11"; got {value!r}'
        )
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(\.\S*)?\s*", value)
    if match is None:
        raise ProjectError(
            f'python in {source} must be a version like "3.11" or "3.11.4", got {value!r}'
        )
    return f"{match[1]}.{match[2]}"


def _strings(value: Any, key: str, source: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProjectError(
            f"{key} in {source} must be a list of pip requirements, e.g. [numpy==2.1, "
            f"-r requirements.txt]; got {value!r}"
        )
    return tuple(value)


def _from_conda(source: Path) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """Python version, build dependencies and pip packages of a conda file, read the way
    MLflow's virtualenv manager reads them: conda packages other than python become pip build
    dependencies, the ``pip:`` list the dependencies."""
    data = _read_mapping(source)
    python: str | None = None
    build: list[str] = []
    deps: list[str] = []
    for entry in data.get("dependencies") or []:
        if isinstance(entry, dict) and "pip" in entry:
            deps += _strings(entry["pip"], "pip", source)
            continue
        match = _CONDA_DEP.match(entry) if isinstance(entry, str) else None
        if match is None:
            raise ProjectError(
                f"cannot read dependency {entry!r} of {source}: give conda packages as "
                "'name=version' and pip packages under '- pip: [...]'"
            )
        name, op, version = match["name"], match["op"], match["version"]
        if name == "python":
            python = _major_minor(version or "", source)
        else:
            build.append(name + ("==" if op == "=" else op or "") + (version or ""))
    return python, tuple(build), tuple(deps)


def _requirement_files(deps: tuple[str, ...], folder: Path, source: Path) -> list[Path]:
    """The files named by ``-r``/``-c`` in ``deps`` (relative to ``folder``) and in those files
    (relative to each file), in order; a missing one is a ProjectError naming who named it."""
    found: list[Path] = []
    for dep in deps:
        text = dep.strip()
        if not text.startswith("-"):
            continue  # a requirement, not an option
        words = shlex.split(text, comments=True)
        option, _, name = words[0].partition("=")
        if option not in _FILE_OPTIONS:
            continue
        if not name and len(words) > 1:
            name = words[1]
        path = (folder / name).resolve()
        if not name or not path.is_file():
            raise ProjectError(
                f"{source} names {name or 'nothing'} ({option}), but there is no such file in "
                f"{folder}; add it or correct the line"
            )
        if path not in found:
            found.append(path)
            nested = path.read_text(encoding="utf-8").splitlines()
            found += [
                f for f in _requirement_files(tuple(nested), path.parent, path) if f not in found
            ]
    return found


def _interpreter(spec: EnvSpec) -> Path:
    """The Python to build with: this one, or ``pythonX.Y`` on PATH for another version."""
    if spec.python == _CURRENT:
        return Path(sys.executable)
    name = f"python{spec.python}"
    found = shutil.which(name)
    if found is not None and _version_of(found) == spec.python:
        return Path(found)
    raise ProjectError(
        f"{spec.source} asks for Python {spec.python}, which is not installed here (no working "
        f"{name} on PATH; nbtrack runs on Python {_CURRENT}); install Python {spec.python} so "
        f"that {name} is on PATH, or change python: in {spec.source}"
    )


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _key(spec: EnvSpec, interpreter: Path, root: Path) -> str:
    digest = hashlib.sha256()
    described = {
        "format": ENV_FORMAT,
        "python": spec.python,
        "interpreter": str(interpreter),
        "build_dependencies": spec.build_dependencies,
        "dependencies": spec.dependencies,
        "tracking": pinned(TRACKING_REQUIREMENTS),
        "nbtrack": str(NBTRACK_DIR),
    }
    digest.update(json.dumps(described, sort_keys=True).encode())
    for path in spec.files:  # by name within the project: a copied project reuses its env
        name = os.path.relpath(path, root)
        digest.update(f"\0{name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _ready(root: Path) -> bool:
    """Whether ``root`` is a complete environment whose Python still exists."""
    return (root / MARKER).is_file() and (root / "bin" / "python").exists()


def _build(project: Project, spec: EnvSpec, interpreter: Path, cache: Path, key: str) -> None:
    """Build the environment in a new folder of ``cache`` and publish it as ``cache/key``;
    the caller holds the key's lock."""
    made_from = spec.source.name if spec.source is not None else "nbtrack's needs alone"
    print(
        f"nbtrack: building a Python {spec.python} environment for project {project.name!r} "
        f"from {made_from} in {cache / key} (reused until that changes)",
        file=sys.stderr,
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=cache))
    try:
        _fill(project, spec, interpreter, folder)
        link = cache / f".{key}.{os.getpid()}.link"
        link.unlink(missing_ok=True)
        link.symlink_to(folder.name)
        published = cache / key
        if published.is_dir() and not published.is_symlink():
            shutil.rmtree(published)  # (not one of ours: a folder cannot be replaced by a link)
        os.replace(link, published)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    for stale in cache.glob(f"{key}-*"):  # builds that died, an environment replaced
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)


def _fill(project: Project, spec: EnvSpec, interpreter: Path, folder: Path) -> None:
    """Create the venv in ``folder`` and install what ``spec`` asks for, the tracking
    requirements that are still missing, and the link to nbtrack; the marker comes last."""
    what = f"for project {project.name!r}"
    _run([str(interpreter), "-m", "venv", str(folder)], project.root, f"create a venv {what}")
    python = str(folder / "bin" / "python")
    # --no-compile: bytecode is written on first import instead; compiling pyarrow's and
    # numpy's thousands of files up front takes half of a build's time.
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           "--progress-bar", "off", "--no-compile"]  # fmt: skip
    if spec.build_dependencies:
        _run([*pip, *spec.build_dependencies], project.root, f"install build_dependencies {what}")
    if spec.dependencies:
        args = [w for dep in spec.dependencies for w in _pip_words(dep)]
        _run([*pip, *args], project.root, f"install the requirements {what}")
    probe = _run(
        [python, "-c", _PROBE, *TRACKING_REQUIREMENTS],
        project.root, f"inspect the venv {what}",
    )  # fmt: skip
    state = json.loads(probe.splitlines()[-1])
    missing = [r for r in pinned(TRACKING_REQUIREMENTS) if r.split("==")[0] in state["missing"]]
    if missing:
        _run([*pip, *missing], project.root, f"install nbtrack's tracking requirements {what}")
    links = folder / LINK_DIR
    links.mkdir()
    (links / NBTRACK_DIR.name).symlink_to(NBTRACK_DIR, target_is_directory=True)
    (Path(state["purelib"]) / PTH_FILE).write_text(f"{links}\n", encoding="utf-8")
    marker = {
        "project": str(project.root),
        "python": spec.python,
        "interpreter": str(interpreter),
        "made_from": [str(p) for p in spec.files],
        "built_at": time.time(),
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")


# Run with the venv's Python: where its packages go, and which of the named ones it lacks.
_PROBE = """
import importlib.metadata, json, sys, sysconfig
missing = []
for name in sys.argv[1:]:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        missing.append(name)
print(json.dumps({"purelib": sysconfig.get_path("purelib"), "missing": missing}))
"""


def _pip_words(dep: str) -> list[str]:
    """A dependency line as pip arguments: options (``-r file``, ``--index-url URL``) split
    into words, a requirement (``numpy >= 2``) kept whole."""
    dep = dep.strip()
    return shlex.split(dep) if dep.startswith("-") else [dep]


def _run(command: list[str], cwd: Path, action: str) -> str:
    """Run a build step, returning its output; a failure is a ProjectError quoting its last
    lines."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"  # the build sees the venv and nothing else
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace",
        )  # fmt: skip
    except OSError as err:
        raise ProjectError(f"cannot {action}: {err}") from err
    if done.returncode != 0:
        tail = "\n".join(done.stdout.strip().splitlines()[-PIP_TAIL_LINES:])
        shown = shlex.join([Path(command[0]).name, *command[1:]])
        raise ProjectError(
            f"cannot {action}: `{shown}` exited with code {done.returncode}; its last lines:\n"
            f"{tail}\nfix what they point at (a requirement's name or version, a Python "
            "without venv support) and run again"
        )
    return done.stdout
