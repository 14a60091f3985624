"""Serving a run's artifact files safely: paths confined to the run's artifact folder, and
content types a browser cannot be tricked into running.

An artifact is whatever a run's code wrote, so the server treats it as untrusted: a page or an
image with script in it (HTML, SVG, XML, JavaScript) is sent as plain text to be downloaded,
never rendered in the origin of the Jupyter server, where its script could call the API with
the user's credentials.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote

# Shown inline: raster images, which browsers never run script in.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Types in which a browser runs script or renders an active document, matched as parts of the
# type (``image/svg+xml``, ``application/xhtml+xml``, ``text/javascript``, ...).
SCRIPTABLE = ("html", "svg", "xml", "javascript", "ecmascript")
# What a scriptable file is sent as: its source, to read or download, never to run.
PLAIN_TEXT = "text/plain; charset=utf-8"
# Text shown as it is besides text/* (with nosniff, browsers guess no other type).
TEXT_TYPES = frozenset({"application/json", "application/x-yaml", "application/yaml"})
# Text files that mimetypes does not know (logs, configs, MLflow's MLmodel).
TEXT_SUFFIXES = frozenset({".log", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".jsonl", ".tsv"})
TEXT_NAMES = frozenset({"MLmodel"})


def confined(folder: Path, relative: str) -> Path:
    """The file at ``relative`` inside ``folder``. PermissionError for a path that is absolute,
    climbs with ``..`` or resolves outside ``folder`` (through a symlink);
    FileNotFoundError when there is no such file.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("hi")
    >>> confined(folder, "notes.txt").name
    'notes.txt'
    >>> confined(folder, "../../etc/passwd")
    Traceback (most recent call last):
    ...
    PermissionError: artifact path '../../etc/passwd' leaves the run's artifact folder
    """
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if (
        "\x00" in relative
        or relative.startswith(("/", "\\"))
        or PureWindowsPath(relative).drive
        or ".." in parts
    ):
        raise PermissionError(f"artifact path {relative!r} leaves the run's artifact folder")
    base = folder.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        raise PermissionError(f"artifact path {relative!r} resolves outside the run's artifacts")
    if not path.is_file():
        raise FileNotFoundError(f"the run has no artifact file {relative!r}")
    return path


def artifact_headers(name: str) -> dict[str, str]:
    """The response headers for an artifact file called ``name``.

    >>> artifact_headers("plot.png")["Content-Type"]
    'image/png'
    >>> headers = artifact_headers("report.html")
    >>> headers["Content-Type"], headers["Content-Disposition"]
    ('text/plain; charset=utf-8', "attachment; filename*=UTF-8''report.html")
    """
    kind, encoding = mimetypes.guess_type(name, strict=False)
    headers = {"X-Content-Type-Options": "nosniff"}
    download = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(Path(name).name)}"}
    if kind is None and (
        Path(name).suffix.lower() in TEXT_SUFFIXES or Path(name).name in TEXT_NAMES
    ):
        kind = "text/plain"
    if encoding is not None or kind is None:  # compressed (.gz) or unknown: bytes to download
        return {**headers, "Content-Type": "application/octet-stream", **download}
    if kind in INLINE_IMAGES:
        return {**headers, "Content-Type": kind}
    if any(word in kind for word in SCRIPTABLE):
        return {**headers, "Content-Type": PLAIN_TEXT, **download}
    if kind.startswith("text/") or kind in TEXT_TYPES:
        return {**headers, "Content-Type": f"{kind}; charset=utf-8"}
    return {**headers, "Content-Type": kind, **download}
