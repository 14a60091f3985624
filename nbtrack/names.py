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


def new_run_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(RUN_ID_LENGTH))


def new_run_name() -> str:
    """A readable name such as ``"swift-otter-42"``."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(100)}"
