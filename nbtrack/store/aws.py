"""Connection settings of a bucket store, from where the AWS tools keep them.

The environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``,
``AWS_REGION`` / ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``) comes
first; then the profile ``$AWS_PROFILE`` (else ``default``) of the shared files
(``~/.aws/credentials`` and ``~/.aws/config``, or ``$AWS_SHARED_CREDENTIALS_FILE`` and
``$AWS_CONFIG_FILE``) for static keys, region and ``endpoint_url``; an ``endpoint_url`` in the
store URL overrides them all.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from ..locations import StoreURL

_ENV_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def _profile(path_env: str, default: Path, section: str) -> dict[str, str]:
    parser = configparser.RawConfigParser()
    try:
        parser.read(os.environ.get(path_env) or default)
    except configparser.Error:
        return {}
    return dict(parser[section]) if parser.has_section(section) else {}


def _shared_profile() -> dict[str, str]:
    """The profile's settings, credentials file over config file."""
    name = os.environ.get("AWS_PROFILE") or "default"
    home = Path.home() / ".aws"
    config = _profile("AWS_CONFIG_FILE", home / "config",
                      name if name == "default" else f"profile {name}")  # fmt: skip
    return {**config, **_profile("AWS_SHARED_CREDENTIALS_FILE", home / "credentials", name)}


def endpoint(url: StoreURL) -> str | None:
    """The endpoint a bucket store talks to (None: AWS itself)."""
    return (
        url.endpoint_url
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
        or _shared_profile().get("endpoint_url")
        or None
    )


def s3_config(url: StoreURL) -> dict[str, str]:
    """What the S3 client needs beyond what it reads from the environment itself."""
    config: dict[str, str] = {}
    where = endpoint(url)
    if where:
        config["endpoint"] = where
    profile = _shared_profile()
    keys_in_env = all(os.environ.get(k) for k in _ENV_KEYS)
    if (
        not keys_in_env
        and profile.get("aws_access_key_id")
        and profile.get("aws_secret_access_key")
    ):
        config["access_key_id"] = profile["aws_access_key_id"]
        config["secret_access_key"] = profile["aws_secret_access_key"]
        if profile.get("aws_session_token"):
            config["token"] = profile["aws_session_token"]
    region = (url.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
              or profile.get("region"))  # fmt: skip
    if region:
        config["region"] = region
    return config
