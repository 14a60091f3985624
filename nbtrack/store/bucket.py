"""The requests a bucket store makes, through botocore (boto3's core), with errors that say
what to fix.

Why botocore, measured against moto's S3 server on this machine (20 KB objects): obstore was
the fastest (PUT 3.1 ms, GET 2.9 ms, LIST 5.9 ms; boto3 6.2 / 4.5 / 8.9; pyarrow's
S3FileSystem 31.9 / 7.4 / 15.4) and has conditional PUTs too, but its HTTP runtime does not
survive a ``fork`` (a forked child's first request hangs), and nbtrack's sweeps and users' own
code fork processes that log. botocore works in a forked child (with a new client), makes
conditional PUTs (``IfNoneMatch="*"``), and reads credentials, region, profile and endpoint
everywhere the AWS tools do (``AWS_ACCESS_KEY_ID``…, ``AWS_PROFILE``, ``~/.aws/config`` and
``credentials``, SSO, instance roles, ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``).
pyarrow's file system has no conditional PUT; s3fs would add aiobotocore on top of botocore.
Its price: about 0.4 s to import and build a client, once per process (boto3's session would
add 0.2 s more).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

from ..errors import StoreError
from ..extras import optional
from ..locations import StoreURL

# Give up on a dead endpoint in seconds, not minutes: rows stay buffered and are retried.
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
ATTEMPTS = 3
# Requests made at once (downloads of many segments, listing of many tables).
CONNECTIONS = 16

_REFUSED = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "AccessDenied",
    "InvalidToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed",
}  # fmt: skip
_UNREACHABLE = {
    "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
}  # fmt: skip


def endpoint(url: StoreURL) -> str | None:
    """The endpoint a bucket store talks to (None: AWS's own): the URL's ``endpoint_url``,
    else ``$AWS_ENDPOINT_URL_S3``, else ``$AWS_ENDPOINT_URL`` (the profile's ``endpoint_url``
    in ``~/.aws/config`` is honoured by botocore too)."""
    return (url.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL") or None)  # fmt: skip


class Listed(NamedTuple):
    key: str  # relative to the store's prefix
    size: int
    modified: datetime


class Bucket:
    """The objects under a store's prefix."""

    def __init__(self, url: StoreURL) -> None:
        self.url = url
        self.endpoint = endpoint(url)
        self._prefix = f"{url.prefix}/" if url.prefix else ""
        self._client: Any = None
        self._lock = threading.Lock()

    def after_fork(self) -> None:
        """In a forked child: a new client (its connections belong to the parent)."""
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                # botocore's session, not boto3's: a new process starts about 0.2 s sooner
                session = optional("botocore.session", "a store in a bucket (s3://)", "s3")
                from botocore.config import Config

                config = Config(
                    connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                    retries={"max_attempts": ATTEMPTS, "mode": "standard"},
                    max_pool_connections=CONNECTIONS,
                    # S3-compatible services (MinIO, Ceph) want bucket names in the path
                    s3={"addressing_style": "path"} if self.endpoint else None,
                )  # fmt: skip
                self._client = session.get_session().create_client(
                    "s3", endpoint_url=self.url.endpoint_url, region_name=self.url.region,
                    config=config,
                )  # fmt: skip
            return self._client

    def fail(self, action: str, err: Exception) -> StoreError:
        """A StoreError saying what could not be done, why, and what to fix."""
        code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
        kind = type(err).__name__
        where = self.endpoint or "AWS S3"
        bucket = self.url.bucket
        if code == "NoSuchBucket":
            fix = (
                f"the bucket {bucket!r} does not exist at {where}: create it "
                f"(e.g. `aws s3 mb s3://{bucket}`) or fix the store URL"
            )
        elif code in _REFUSED or kind in ("NoCredentialsError", "PartialCredentialsError"):
            fix = (
                "the credentials were refused or are missing: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to keys that may use the bucket"
            )
        elif kind in _UNREACHABLE:
            fix = (
                f"cannot reach {where}: check the network and the endpoint "
                "(AWS_ENDPOINT_URL, or ?endpoint_url= in the store URL)"
            )
        else:
            fix = "check the store URL, the credentials and the endpoint"
        detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else kind
        return StoreError(f"cannot {action} {self.url}: {fix} ({detail})")

    def get(self, key: str) -> bytes:
        """The object ``key``; FileNotFoundError when there is none (a missing bucket, refused
        credentials or an unreachable endpoint are StoreErrors)."""
        client = self.client  # (outside the try: a missing botocore names the extra to install)
        try:
            answer = client.get_object(Bucket=self.url.bucket, Key=self._prefix + key)
            return bytes(answer["Body"].read())
        except Exception as err:
            if _code(err) in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from None
            raise self.fail("read from", err) from err

    def put(self, key: str, data: bytes, create: bool) -> bool:
        """Upload ``data`` as ``key`` in one PUT; with ``create`` only if there is no such key
        (``If-None-Match: *``): False when there is."""
        extra = {"IfNoneMatch": "*"} if create else {}
        client = self.client
        try:
            client.put_object(Bucket=self.url.bucket, Key=self._prefix + key, Body=data, **extra)
        except Exception as err:
            if _code(err) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self.fail("write to", err) from err
        return True

    def list(self, prefix: str, after: str | None = None) -> Iterator[Listed]:
        """The objects whose keys start with ``prefix``, in key order, after key ``after``."""
        args = {"Bucket": self.url.bucket, "Prefix": self._prefix + prefix}
        if after:
            args["StartAfter"] = self._prefix + after
        cut = len(self._prefix)
        client = self.client
        try:
            for page in client.get_paginator("list_objects_v2").paginate(**args):
                for item in page.get("Contents", ()):
                    yield Listed(item["Key"][cut:], int(item["Size"]), item["LastModified"])
        except Exception as err:
            raise self.fail("list", err) from err

    def delete(self, key: str) -> None:
        client = self.client
        try:
            client.delete_object(Bucket=self.url.bucket, Key=self._prefix + key)
        except Exception as err:
            if _code(err) not in ("NoSuchKey", "404"):
                raise self.fail("delete from", err) from err


def _code(err: Exception) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
