"""``python -m nbtrack.serving MODEL_URI [--host H] [--port P] [--workers N]``: serve a model."""

from __future__ import annotations

import argparse
import sys

from .config import MAX_BODY_BYTES
from .server import main


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nbtrack.serving",
        description="Serve a model with MLflow's scoring protocol.",
    )
    parser.add_argument("model_uri", metavar="MODEL_URI",
                        help="models:/NAME@ALIAS, runs:/RUN/PATH or a folder")  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", "-p", type=int, default=5000, help="port (5000; 0 = any free)")
    parser.add_argument("--workers", "-w", type=int, default=1, help="worker processes (1)")
    parser.add_argument("--max-body-mb", type=float, default=MAX_BODY_BYTES / 2**20,
                        help="largest request body accepted, in MiB (64)")  # fmt: skip
    args = parser.parse_args(argv)
    return main(args.model_uri, args.host, args.port, args.workers,
                max_body_bytes=int(args.max_body_mb * 2**20))  # fmt: skip


if __name__ == "__main__":
    sys.exit(run())
