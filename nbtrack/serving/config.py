"""The scoring server's settings, each with the reason for its value."""

from __future__ import annotations

# A body this large is far more than one scoring request should carry (about 400,000 rows of
# 13 numbers as JSON); refusing it early keeps a mistaken upload from filling the memory.
MAX_BODY_BYTES = 64 * 2**20
# Bodies up to this size are scored on the event loop itself: a thread hop costs more than
# predicting a few rows. Larger ones go to a thread so /ping keeps answering meanwhile.
INLINE_BODY_BYTES = 16 * 2**10
# How worker processes (``--workers N``) learn what to serve: see ``app.app_from_env``.
ENV_MODEL = "NBTRACK_SERVE_MODEL"
ENV_MAX_BODY = "NBTRACK_SERVE_MAX_BODY_BYTES"
# How long serve() waits for the server thread to accept connections, and stop() for it to end.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Pending connections the kernel queues before they are accepted (uvicorn's own default).
BACKLOG = 2048
