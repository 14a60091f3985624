"""Run ids (short, unique, easy to type) and friendly default run names."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
# 10 base-36 characters: 3.6e15 ids, so a million runs collide with odds below 1 in 7,000,000.
RUN_ID_LENGTH = 10

_ADJECTIVES = (
    "amber", "bold", "brave", "bright", "calm", "clever", "crisp", "dapper", "eager", "fancy",
    "gentle", "glad", "golden", "grand", "happy", "jolly", "keen", "kind", "lively", "lucky",
    "merry", "misty", "nimble", "noble", "polite", "proud", "quick", "quiet", "rapid", "shiny",
    "silent", "sleek", "smart", "snowy", "steady", "sunny", "swift", "tidy", "vivid", "witty",
)  # fmt: skip
_NOUNS = (
    "badger", "bear", "bee", "crane", "deer", "dolphin", "eagle", "falcon", "finch", "fox",
    "gecko", "hare", "hawk", "heron", "horse", "ibis", "koala", "lark", "lemur", "lion",
    "lynx", "mole", "moose", "otter", "owl", "panda", "pike", "puffin", "raven", "robin",
    "seal", "shark", "sloth", "snail", "swan", "tiger", "trout", "whale", "wolf", "wren",
)  # fmt: skip


def stable_run_id(*origin: str) -> str:
    """A run id made from where an imported run comes from (e.g. its tracker and its id
    there): importing the same run again gives the same id, so it is found and skipped.

    >>> stable_run_id("wandb", "team/wine/abc123") == stable_run_id("wandb", "team/wine/abc123")
    True
    >>> len(stable_run_id("tensorboard", "/logs/run-1"))
    10
    """
    import hashlib

    number = int.from_bytes(hashlib.sha256("\0".join(origin).encode()).digest()[:8], "big")
    return _base36(number % len(_ALPHABET) ** RUN_ID_LENGTH)


def _base36(number: int) -> str:
    digits = []
    for _ in range(RUN_ID_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        digits.append(_ALPHABET[digit])
    return "".join(digits)


def new_run_id() -> str:
    """Ten random base-36 characters, e.g. ``"3fl6ucz1al"``.

    >>> len(new_run_id()), set(new_run_id()) <= set(_ALPHABET)
    (10, True)
    """
    # One read of the OS's randomness, not one per character (a run's start costs microseconds)
    return _base36(secrets.randbits(64) % len(_ALPHABET) ** RUN_ID_LENGTH)


def new_run_name() -> str:
    """A readable name such as ``"swift-otter-42"``."""
    number = secrets.randbits(32)
    adjective, noun = _ADJECTIVES[number % 40], _NOUNS[number // 40 % 40]
    return f"{adjective}-{noun}-{number // 1600 % 100}"
