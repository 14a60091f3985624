"""A real S3 API on 127.0.0.1 for the tests: moto's server, in a thread of the test process
(its state lives in this process, so a test can stop and restart it and find its buckets)."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import wait_for

from nbtrack.locations import StoreURL

# What moto's server wants from a client: any keys will do (it checks none unless told).
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class S3Server:
    """moto's S3 server on a fixed local port, with a fresh bucket per test."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._buckets = itertools.count()
        self.running = False

    def start(self) -> None:
        self._server.start()
        self.running = True
        wait_for(self._answers, f"moto's server on {self.url}")

    def stop(self) -> None:
        if self.running:
            self._server.stop()
            self.running = False

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def client(self):  # boto3's, to look at the bucket from outside nbtrack
        import boto3

        return boto3.client("s3", endpoint_url=self.url, **_boto_keys())

    def new_bucket(self) -> str:
        name = f"test-{next(self._buckets)}"
        self.client().create_bucket(Bucket=name)
        return name

    def store(self, bucket: str | None = None, prefix: str = "store") -> StoreURL:
        """A store URL in ``bucket`` (default: a new one) on this server."""
        return StoreURL(bucket or self.new_bucket(), prefix, self.url)


def stored(store: Path | StoreURL, under: str) -> list[str]:
    """The files of a store (a folder, or a bucket asked directly, not through nbtrack) under
    ``under``, relative to the store, e.g. ``stored(store, "segments/metrics")``."""
    if isinstance(store, Path):
        folder = store / under
        return sorted(p.relative_to(store).as_posix() for p in folder.rglob("*")
                      if p.is_file() and not p.name.startswith("."))  # fmt: skip
    import boto3

    client = boto3.client("s3", endpoint_url=store.endpoint_url, **_boto_keys())
    start = f"{store.prefix}/{under}"
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=start)
    return sorted(o["Key"][len(store.prefix) + 1 :] for p in pages for o in p.get("Contents", []))


def write_stored(store: Path | StoreURL, name: str, data: bytes) -> None:
    """Put ``data`` into a store as its file ``name`` (e.g. ``segments/runs/x.parquet``),
    behind nbtrack's back."""
    if isinstance(store, Path):
        (store / name).write_bytes(data)
        return
    import boto3

    client = boto3.client("s3", endpoint_url=store.endpoint_url, **_boto_keys())
    client.put_object(Bucket=store.bucket, Key=f"{store.prefix}/{name}", Body=data)


def read_stored(store: Path | StoreURL, name: str) -> bytes:
    """A store's file ``name``, read behind nbtrack's back."""
    if isinstance(store, Path):
        return (store / name).read_bytes()
    import boto3

    client = boto3.client("s3", endpoint_url=store.endpoint_url, **_boto_keys())
    return client.get_object(Bucket=store.bucket, Key=f"{store.prefix}/{name}")["Body"].read()


def _boto_keys() -> dict[str, str]:
    return {"aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "region_name": CREDENTIALS["AWS_DEFAULT_REGION"]}  # fmt: skip


@contextmanager
def strict_server() -> Iterator[str]:
    """Another moto server, in its own process, that refuses every request's credentials
    (none are registered with it); yields its URL."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1),
                 "a strict moto server")  # fmt: skip
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def cache_dir(root: Path) -> Path:
    return root / "nbtrack-cache"
