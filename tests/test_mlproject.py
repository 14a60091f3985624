"""MLproject folders (entry points, typed parameters, commands) and the virtual environments
``--env-manager venv`` builds for them: real folders, real processes, a real venv from PyPI."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nbtrack
from nbtrack.errors import ProjectError
from nbtrack.projects.mlproject import EntryPoint, Parameter, is_project, load_project
from nbtrack.projects.venv import MARKER, cache_dir, ensure_env, env_spec, env_vars

MLPROJECT = """
name: wine
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.5}
      epochs: {type: int, default: 10}
      data: path
      model_uri: {type: uri, default: "s3://bucket/model"}
      note: {type: string, default: "first try"}
      layers: string
    command: >-
      python show_args.py --alpha {alpha} --epochs {epochs} --data {data} --uri {model_uri}
      --note {note} --layers {layers}
  validate:
    parameters:
      threshold: float
    command: "python show_args.py {threshold}"
"""
# The project's script prints the arguments it was given, so tests see what a command passed.
SHOW_ARGS = "import json, sys\nprint(json.dumps(sys.argv[1:]))\n"


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return folder


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return write(
        tmp_path / "wine",
        {
            "MLproject": MLPROJECT,
            "python_env.yaml": 'python: "3.11"\ndependencies: [six]\n',
            "show_args.py": SHOW_ARGS,
            "data/train.csv": "a,b\n1,2\n",
        },
    )


def shell(command: str, cwd: Path) -> list[str]:
    """Run a command line the way a project's command runs (a shell, in the project folder),
    with this Python as ``python``; returns the arguments show_args.py received."""
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    done = subprocess.run(
        command, shell=True, cwd=cwd, env={**os.environ, "PATH": path},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- the MLproject model ---------------------------------------------------------------------


def test_a_project_has_its_name_environment_and_typed_entry_points(project_dir: Path) -> None:
    project = load_project(project_dir)
    assert project.name == "wine" and project.root == project_dir.resolve()
    assert project.python_env == project.root / "python_env.yaml"
    assert project.conda_env is None and project.docker_env is None
    assert list(project.entry_points) == ["main", "validate"]
    main = project.entry_point()
    assert main is project.entry_points["main"] and main.root == project.root
    assert main.parameters == {
        "alpha": Parameter("alpha", "float", 0.5),
        "epochs": Parameter("epochs", "int", 10),
        "data": Parameter("data", "path", None),
        "model_uri": Parameter("model_uri", "uri", "s3://bucket/model"),
        "note": Parameter("note", "string", "first try"),
        "layers": Parameter("layers", "string", None),
    }
    assert project.entry_point("validate").parameters == {
        "threshold": Parameter("threshold", "float")
    }


def test_resolve_fills_defaults_and_types_each_value(project_dir: Path) -> None:
    main = load_project(project_dir).entry_point()
    root = main.root
    given = {"data": "data/train.csv", "layers": [64, 64], "alpha": "0.25", "epochs": "3"}
    assert main.resolve(given) == {
        "alpha": 0.25,
        "epochs": 3,
        "data": str(root / "data" / "train.csv"),
        "model_uri": "s3://bucket/model",
        "note": "first try",
        "layers": "[64, 64]",
    }
    typed = main.resolve(
        {"data": str(root), "layers": "x", "alpha": 1, "epochs": 4.0, "model_uri": "runs:/a/b"}
    )
    assert typed["alpha"] == 1.0 and isinstance(typed["alpha"], float)
    assert typed["epochs"] == 4 and isinstance(typed["epochs"], int)
    assert typed["data"] == str(root) and typed["model_uri"] == "runs:/a/b"
    numpy_values = main.resolve({"data": "d", "layers": "x", "alpha": np.float32(0.25),
                                 "epochs": np.int64(4)})  # fmt: skip
    assert (numpy_values["alpha"], numpy_values["epochs"]) == (0.25, 4)
    assert type(numpy_values["alpha"]) is float and type(numpy_values["epochs"]) is int
    # a path not yet there (an output folder) is fine; None counts as not given
    later = main.resolve({"data": "out/../out/model", "layers": "x", "alpha": None})
    assert later["data"] == str(root / "out" / "model") and later["alpha"] == 0.5


def test_a_missing_required_parameter_says_how_to_pass_it(project_dir: Path) -> None:
    main = load_project(project_dir).entry_point()
    with pytest.raises(ProjectError) as caught:
        main.resolve({"layers": "x"})
    message = str(caught.value)
    assert "'data' (path)" in message and "'main'" in message and "-P data=VALUE" in message


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("alpha", "fast", "-P alpha=0.5"),
        ("alpha", True, "-P alpha=0.5"),
        ("epochs", "2.5", "-P epochs=3"),
        ("epochs", 2.5, "-P epochs=3"),
        ("data", 7, "-P data="),
    ],
)
def test_a_wrongly_typed_value_is_named_with_what_was_given(
    project_dir: Path, name: str, value: object, hint: str
) -> None:
    main = load_project(project_dir).entry_point()
    given = {"data": "data", "layers": "x", name: value}
    with pytest.raises(ProjectError) as caught:
        main.resolve(given)
    message = str(caught.value)
    assert f"parameter {name!r} of entry point 'main'" in message
    assert repr(value) in message and hint in message


def test_the_command_gets_each_value_as_one_shell_word(project_dir: Path) -> None:
    main = load_project(project_dir).entry_point()
    note = 'it\'s; rm -rf ~ && echo $HOME `id` "quoted"'
    values = main.resolve({"data": "data/train.csv", "layers": [64, 64], "note": note})
    line = main.command_line(values)
    assert line.startswith("python show_args.py --alpha 0.5 --epochs 10 --data ")
    expected = ["--alpha", "0.5", "--epochs", "10", "--data", values["data"],
                "--uri", "s3://bucket/model", "--note", note, "--layers", "[64, 64]"]  # fmt: skip
    assert shlex.split(line)[2:] == expected
    assert shell(line, main.root) == expected  # and a real shell passes exactly those
    assert shell(load_project(project_dir).entry_point("validate").command_line(
        {"threshold": 0.9}), project_dir) == ["0.9"]  # fmt: skip


def test_undeclared_parameters_are_kept_and_passed_as_options(project_dir: Path) -> None:
    main = load_project(project_dir).entry_point()
    values = main.resolve({"data": "data", "layers": "x", "seed": 3, "tag": "a b; c"})
    assert values["seed"] == 3 and values["tag"] == "a b; c"
    line = main.command_line(values)
    assert line.endswith(" --seed 3 --tag 'a b; c'")
    assert shell(line, main.root)[-4:] == ["--seed", "3", "--tag", "a b; c"]
    with pytest.raises(
        ProjectError,
        match=r"no value for 'epochs', 'data', .*'layers' of entry point 'main'.*resolve",
    ):
        main.command_line({"alpha": 0.5})


def test_an_unknown_entry_point_lists_the_known_ones(project_dir: Path) -> None:
    project = load_project(project_dir)
    with pytest.raises(ProjectError) as caught:
        project.entry_point("train")
    message = str(caught.value)
    assert "no entry point 'train'" in message and "main, validate" in message
    assert "show_args.py" in message and "-e train.py" in message


def test_files_in_a_folder_without_mlproject_are_entry_points(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "scripts",
        {"train.py": SHOW_ARGS, "run.sh": 'python train.py "$@" from-sh\n', "notes.txt": ""},
    )
    project = load_project(folder)
    assert project.name == "scripts" and project.entry_points == {}
    assert project.python_env is None and project.conda_env is None
    train = project.entry_point("train.py")
    assert train == EntryPoint("train.py", {}, "python train.py", project.root)
    values = train.resolve({"lr": 0.1, "name": "rf x", "layers": [64, 64]})
    line = train.command_line(values)
    assert line == "python train.py --lr 0.1 --name 'rf x' --layers '[64, 64]'"
    assert shell(line, folder) == ["--lr", "0.1", "--name", "rf x", "--layers", "[64, 64]"]
    script = project.entry_point("run.sh")
    assert script.command == "bash run.sh"
    assert shell(script.command_line({"n": 2}), folder) == ["--n", "2", "from-sh"]
    for missing in ("main", "missing.py", "notes.txt"):
        with pytest.raises(ProjectError, match=r"none declared.*\(run\.sh, train\.py\)"):
            project.entry_point(missing)


@pytest.mark.parametrize(
    ("mlproject", "other_files", "expected"),
    [
        ("entry_points: [\n", {}, r"MLproject is not valid YAML at line 2"),
        ("- main\n", {}, "must be a YAML mapping"),
        ("entry_points: [main]\n", {}, "entry_points .* must be a mapping"),
        ("entry_points: {main: {parameters: {a: 1}}}\n", {}, "'main' .* needs a command"),
        (
            "entry_points: {main: {parameters: {a: number}, command: 'x {a}'}}\n",
            {},
            "'a' .* unknown type 'number'; use one of string, float, int, path, uri",
        ),
        (
            "entry_points: {main: {parameters: {a: float}, command: 'x {a} {b}'}}\n",
            {},
            r"uses \{b\}, which is not one of its parameters \(a\)",
        ),
        (
            "entry_points: {main: {parameters: {a: {type: float, default: fast}}, "
            "command: 'x {a}'}}\n",
            {},
            r"'a' of entry point 'main' has type float, but its default in .*MLproject was 'fast'",
        ),
        ("python_env: env.yaml\n", {}, "names python_env 'env.yaml', but there is no such file"),
        (
            "python_env: p.yaml\nconda_env: c.yaml\n",
            {"p.yaml": "", "c.yaml": ""},
            "more than one environment \\(python_env, conda_env\\)",
        ),
        ("docker_env: {volumes: []}\n", {}, "docker_env .* needs an image"),
    ],
)
def test_a_bad_mlproject_file_says_what_and_where(
    tmp_path: Path, mlproject: str, other_files: dict[str, str], expected: str
) -> None:
    folder = write(tmp_path / "bad", {"MLproject": mlproject, **other_files})
    with pytest.raises(ProjectError, match=expected) as caught:
        load_project(folder)
    assert str(folder.resolve()) in str(caught.value)


def test_a_missing_folder_or_a_file_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such folder; pass the project's folder"):
        load_project(tmp_path / "nope")
    (tmp_path / "train.py").write_text("")
    with pytest.raises(ProjectError, match="a file, not a folder"):
        load_project(tmp_path / "train.py")
    assert is_project(tmp_path) and not is_project(tmp_path / "train.py")
    assert not is_project(tmp_path / "nope")


def test_mlproject_name_case_and_default_environment_files(tmp_path: Path) -> None:
    lower = write(
        tmp_path / "lower",
        {"mlproject": "entry_points: {main: {command: 'echo hi'}}\n", "python_env.yaml": ""},
    )
    project = load_project(lower)
    assert project.name == "lower" and project.entry_point().command == "echo hi"
    assert project.python_env == project.root / "python_env.yaml"
    conda = load_project(write(tmp_path / "conda", {"conda.yaml": "dependencies: []\n"}))
    assert conda.conda_env == conda.root / "conda.yaml" and conda.python_env is None
    docker = load_project(write(tmp_path / "docker", {
        "MLproject": "docker_env: {image: 'python:3.11'}\n", "python_env.yaml": "",
    }))  # fmt: skip
    assert docker.docker_env == {"image": "python:3.11"} and docker.python_env is None


# --- what an environment is made of (nothing built) ------------------------------------------


def test_an_environment_is_made_of_python_env_and_the_files_it_names(tmp_path: Path) -> None:
    folder = write(tmp_path / "p", {
        "python_env.yaml": """\
            python: "3.11.4"
            build_dependencies: [pip, setuptools]
            dependencies: ["-r requirements.txt", "numpy >= 2"]
            """,
        "requirements.txt": "six\n-r more/base.txt\n",
        "more/base.txt": "packaging\n-c ../pins.txt\n",
        "pins.txt": "six==1.17.0\n",
    })  # fmt: skip
    spec = env_spec(load_project(folder))
    root = folder.resolve()
    assert spec.python == "3.11"
    assert spec.build_dependencies == ("pip", "setuptools")
    assert spec.dependencies == ("-r requirements.txt", "numpy >= 2")
    names = ["python_env.yaml", "requirements.txt", "more/base.txt", "pins.txt"]
    assert spec.files == tuple(root / n for n in names)
    assert spec.source == root / "python_env.yaml"


def test_without_python_env_the_conda_file_or_requirements_are_used(tmp_path: Path) -> None:
    conda = write(tmp_path / "conda", {"conda.yaml": """\
        dependencies:
          - python=3.11.4
          - pip
          - numpy=2.1
          - pip: [six]
        """})  # fmt: skip
    spec = env_spec(load_project(conda))
    assert (spec.python, spec.build_dependencies, spec.dependencies) == (
        "3.11", ("pip", "numpy==2.1"), ("six",),
    )  # fmt: skip
    plain = write(tmp_path / "plain", {"requirements.txt": "six\n"})
    spec = env_spec(load_project(plain))
    assert spec.dependencies == ("-r requirements.txt",)
    assert spec.files == (plain.resolve() / "requirements.txt",)
    assert spec.python == f"{sys.version_info.major}.{sys.version_info.minor}"
    bare = env_spec(load_project(write(tmp_path / "bare", {"train.py": ""})))
    assert bare.dependencies == () and bare.files == () and bare.source is None


@pytest.mark.parametrize(
    ("python_env", "expected"),
    [
        ("python: 3.10\n", r'must be a quoted version, e\.g\. python: "3\.11"; got 3\.1'),
        ('python: "three"\n', "must be a version like"),
        ("dependencies: six\n", "dependencies in .* must be a list of pip requirements"),
        ("dependencies: [-r reqs.txt]\n", r"names reqs\.txt \(-r\), but there is no such file"),
        ("- six\n", "must be a YAML mapping"),
    ],
)
def test_a_bad_python_env_file_is_named(tmp_path: Path, python_env: str, expected: str) -> None:
    folder = write(tmp_path / "p", {"python_env.yaml": python_env})
    with pytest.raises(ProjectError, match=expected) as caught:
        ensure_env(load_project(folder))
    assert "python_env.yaml" in str(caught.value)


def test_a_python_version_not_installed_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write(tmp_path / "p", {"python_env.yaml": 'python: "3.99"\n'})
    # a python3.99 on PATH that is really this Python does not count
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3.99").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NBTRACK_ENV_CACHE", str(tmp_path / "envs"))
    with pytest.raises(ProjectError) as caught:
        ensure_env(load_project(folder))
    message = str(caught.value)
    assert "python_env.yaml asks for Python 3.99, which is not installed" in message
    assert "python3.99 on PATH" in message
    assert not (tmp_path / "envs").exists()  # nothing was started


def test_the_cache_folder_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NBTRACK_ENV_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "nbtrack" / "envs"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "nbtrack" / "envs"
    monkeypatch.setenv("NBTRACK_ENV_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


# --- real environments: one build for the module, one rebuild -----------------------------


@pytest.fixture(scope="module")
def env_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("envs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NBTRACK_ENV_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="module")
def built(env_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project folder, its environment), built once: a tiny package from PyPI."""
    folder = write(tmp_path_factory.mktemp("proj"), {"requirements.txt": "six==1.17.0\n"})
    return folder, ensure_env(load_project(folder))


def in_env(root: Path, code: str, **extra: str) -> str:
    """Run ``code`` with the environment's Python, found through env_vars's PATH."""
    env = {**os.environ, **env_vars(root), **extra}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        ["python", "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_env_has_the_requirements_and_nothing_else(built: tuple[Path, Path]) -> None:
    _, root = built
    assert root.parent == cache_dir() and (root / MARKER).is_file()
    out = in_env(root, """
        import importlib.util, json, sys, six
        hidden = [m for m in ("duckdb", "pandas", "pytest", "yaml") if importlib.util.find_spec(m)]
        print(json.dumps([sys.prefix, six.__version__, hidden]))
        """)  # fmt: skip
    prefix, version, hidden = json.loads(out)
    assert Path(prefix) == root and version == "1.17.0" and hidden == []
    links = list((root / "nbtrack-link").iterdir())
    assert [p.name for p in links] == ["nbtrack"]
    assert links[0].resolve() == Path(nbtrack.__file__).parent.resolve()


def test_code_in_the_env_logs_to_the_store(built: tuple[Path, Path], tmp_store: Path) -> None:
    _, root = built
    out = in_env(root, """
        import nbtrack
        run = nbtrack.start_run("in-venv")
        nbtrack.log(x=1)
        nbtrack.flush()
        print(run.id)
        """, NBTRACK_STORE=str(tmp_store))  # fmt: skip
    record = nbtrack.get_run(out.strip())
    assert record.name == "in-venv" and record.metrics == {"x": 1.0}
    assert record.status == "finished"


def test_a_second_ensure_env_reuses_the_env(
    built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, root = built
    marker = (root / MARKER).read_text(), (root / MARKER).stat().st_mtime_ns
    again = ensure_env(load_project(folder))
    # a copy of the project elsewhere is made of the same files: the same environment
    copy = shutil.copytree(folder, tmp_path / "copy")
    assert again == root == ensure_env(load_project(copy))
    assert ((root / MARKER).read_text(), (root / MARKER).stat().st_mtime_ns) == marker
    assert "building" not in capsys.readouterr().err


BUILD = """
import sys
from nbtrack.projects.mlproject import load_project
from nbtrack.projects.venv import ensure_env
print(ensure_env(load_project(sys.argv[1])))
"""


def test_changed_requirements_build_one_new_env_even_for_two_processes(
    built: tuple[Path, Path], env_cache: Path, tmp_path: Path
) -> None:
    folder, old = built
    changed = shutil.copytree(folder, tmp_path / "changed")
    (changed / "requirements.txt").write_text("six==1.16.0\n")
    command = [sys.executable, "-c", BUILD, str(changed)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    builders = [subprocess.Popen(command, **pipes) for _ in range(2)]
    results = [proc.communicate(timeout=600) for proc in builders]
    assert [proc.returncode for proc in builders] == [0, 0], results
    roots = {Path(out.strip()) for out, _ in results}
    assert len(roots) == 1
    new = roots.pop()
    assert new != old and new.parent == env_cache
    assert sum(err.count("nbtrack: building") for _, err in results) == 1
    assert in_env(new, "import six; print(six.__version__)").strip() == "1.16.0"
    assert in_env(old, "import six; print(six.__version__)").strip() == "1.17.0"
    # one folder per environment, each published by its link: nothing half-built is left
    folders = sorted(p.name for p in env_cache.iterdir() if p.is_dir() and not p.is_symlink())
    assert folders == sorted(p.resolve().name for p in (old, new))


def test_a_requirement_pip_cannot_install_is_quoted(env_cache: Path, tmp_path: Path) -> None:
    folder = write(tmp_path / "broken", {"requirements.txt": "six==1.17.0\nsix >=> 1\n"})
    before = sorted(env_cache.iterdir())
    with pytest.raises(ProjectError) as caught:
        ensure_env(load_project(folder))
    message = str(caught.value)
    assert "cannot install the requirements for project 'broken'" in message
    assert "`python -m pip install" in message
    assert "'six >=> 1' (from line 2 of requirements.txt)" in message  # pip's own words
    after = [p for p in sorted(env_cache.iterdir()) if p.suffix != ".lock"]
    assert after == [p for p in before if p.suffix != ".lock"]


TRAIN = """
import argparse, sys, nbtrack, six
parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
alpha = parser.parse_args().alpha
nbtrack.log(rmse=alpha / 2)
nbtrack.set_tags({"prefix": sys.prefix, "six": six.__version__})
"""


def test_nbtrack_run_runs_an_mlproject_entry_point_in_its_venv(
    built: tuple[Path, Path], tmp_path: Path, tmp_store: Path
) -> None:
    folder, root = built
    project = shutil.copytree(folder, tmp_path / "project")  # the same files: the same env
    write(project, {"train.py": TRAIN, "MLproject": """
        name: tiny
        entry_points:
          main:
            parameters:
              alpha: float
            command: "python train.py --alpha {alpha}"
        """})  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
        env.update(NBTRACK_ENV_CACHE=str(cache_dir()), NBTRACK_STORE=str(tmp_store))
        return subprocess.run([sys.executable, "-m", "nbtrack", "run", str(project), *args],
                              env=env, capture_output=True, text=True, timeout=300)  # fmt: skip

    done = cli("-P", "alpha=0.5", "--env-manager", "venv")
    assert done.returncode == 0, done.stderr
    [run_id] = nbtrack.search()["run_id"]
    record = nbtrack.get_run(run_id)
    assert record.params == {"alpha": 0.5} and record.metrics == {"rmse": 0.25}
    assert Path(record.tags["prefix"]) == root and record.tags["six"] == "1.17.0"
    assert record.tags["nbtrack.kind"] == "mlproject"
    assert record.tags["nbtrack.env_manager"] == "venv"
    for args, message in [((), "alpha"), (("-P", "alpha=lots"), "alpha"),
                          (("-e", "nope"), "nope")]:  # fmt: skip
        failed = cli(*args)
        assert failed.returncode == 1 and message in failed.stderr, failed.stderr
    assert len(nbtrack.search()) == 1  # nothing ran for them
