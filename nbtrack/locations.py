"""Where a store lives: a local folder (a :class:`~pathlib.Path`) or a bucket (:class:`StoreURL`).

Kept free of heavy imports: the configuration parses locations before anything is loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union
from urllib.parse import parse_qsl, urlencode, urlsplit

SCHEMES = ("s3://",)
# Query-string options an s3:// URL may carry (everything else is a mistake worth naming).
URL_OPTIONS = ("endpoint_url", "region")


@dataclass(frozen=True)
class StoreURL:
    """A store in an S3 (or S3-compatible) bucket: ``s3://bucket/prefix[?endpoint_url=…]``.

    >>> url = StoreURL.parse("s3://runs/team/a?endpoint_url=http://127.0.0.1:9000")
    >>> url.bucket, url.prefix, url.endpoint_url
    ('runs', 'team/a', 'http://127.0.0.1:9000')
    >>> str(url)
    's3://runs/team/a?endpoint_url=http%3A%2F%2F127.0.0.1%3A9000'
    """

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None

    @classmethod
    def parse(cls, text: str) -> StoreURL:
        parts = urlsplit(text)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"{text!r} is not a bucket URL; write s3://bucket/prefix")
        options = dict(parse_qsl(parts.query))
        unknown = sorted(set(options) - set(URL_OPTIONS))
        if unknown:
            raise ValueError(
                f"{text!r}: unknown option {unknown[0]!r}; an s3:// store URL takes "
                + " and ".join(URL_OPTIONS)
            )
        return cls(
            parts.netloc,
            parts.path.strip("/"),
            options.get("endpoint_url"),
            options.get("region"),
        )

    def __str__(self) -> str:
        query = {k: v for k, v in (("endpoint_url", self.endpoint_url),
                                    ("region", self.region)) if v}  # fmt: skip
        text = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{text}?{urlencode(query)}" if query else text


Location = Union[Path, StoreURL]  # noqa: UP007 (a runtime alias, for Python 3.10 as well)


def parse_location(where: str | os.PathLike[str] | StoreURL) -> Location:
    """A store location from what a user typed: a bucket URL, else a folder (made absolute).

    >>> parse_location("s3://bucket/runs").prefix
    'runs'
    >>> parse_location("/tmp/x/../store")
    PosixPath('/tmp/store')
    """
    if isinstance(where, StoreURL):
        return where
    text = os.fspath(where)
    if isinstance(text, str) and text.startswith(SCHEMES):
        return StoreURL.parse(text)
    return Path(text).expanduser().resolve()
