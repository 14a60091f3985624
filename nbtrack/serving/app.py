"""The scoring server's ASGI application (Starlette): MLflow's endpoints over one loaded model.

    GET  /ping, /health   200 once the model is loaded (it is loaded before the app exists)
    GET  /version         nbtrack's version
    POST /invocations     JSON, CSV or Parquet in, ``{"predictions": ...}`` out

Every error is JSON, ``{"error_code": ..., "message": ...}``, never a stack trace: bad input is
a 4xx naming the problem (400; 413 for too large a body; 415 for a content type other than
JSON, CSV or Parquet). An exception raised inside the model's own ``predict`` is a 400
``BAD_REQUEST`` as in MLflow's server, which cannot tell a model bug from input the model
rejects; the message carries the exception's type and text, its traceback goes to the server's
log. Only a failure of the server itself is a 500.
"""

from __future__ import annotations

import inspect
import logging
import os
from typing import Any

from .._version import __version__
from ..errors import ModelSignatureError, NbtrackError
from ..extras import optional
from . import encode
from .config import ENV_MAX_BODY, ENV_MODEL, INLINE_BODY_BYTES, MAX_BODY_BYTES
from .payload import InputShape, RequestError, media_type, read_body

logger = logging.getLogger("nbtrack.serving")


def load(model_uri: str) -> Any:
    """The model at ``model_uri`` as a generic PyFuncModel, or one NbtrackError saying why not."""
    from ..mlmodel import load_model

    try:
        return load_model(model_uri, generic=True)
    except NbtrackError:
        raise
    except Exception as err:
        raise NbtrackError(
            f"cannot serve {model_uri}: loading the model failed with {type(err).__name__}: {err}"
        ) from err


class Scorer:
    """One model's ``/invocations``: read the body, predict, encode the predictions."""

    def __init__(self, model: Any) -> None:
        self.model = model
        get_schema = getattr(getattr(model, "metadata", None), "get_input_schema", None)
        schema = get_schema() if get_schema is not None else None
        self.shape = InputShape.of(schema)
        self._takes_params = "params" in inspect.signature(model.predict).parameters

    def score(self, body: bytes, kind: str) -> bytes:
        """The response body for a request body of media type ``kind``; RequestError if bad."""
        request = read_body(body, kind, self.shape)
        try:
            if self._takes_params:
                output = self.model.predict(request.data, params=request.params)
            else:
                output = self.model.predict(request.data)
        except ModelSignatureError as err:
            raise RequestError(str(err), 400, "INVALID_PARAMETER_VALUE") from None
        except Exception as err:
            logger.warning("the model's predict raised", exc_info=True)
            raise RequestError(
                f"the model could not predict on this input: {type(err).__name__}: {err}"
            ) from None
        try:
            return encode.predictions(output)
        except encode.EncodeError as err:
            raise RequestError(str(err), 500, "INTERNAL_ERROR") from None


def create_app(model: Any, *, max_body_bytes: int = MAX_BODY_BYTES) -> Any:
    """A Starlette app serving ``model`` (anything with ``predict``, e.g. a PyFuncModel)."""
    optional("uvicorn", "serving a model", "serve")
    applications = optional("starlette.applications", "serving a model", "serve")
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    scorer = Scorer(model)

    def reply(body: bytes, status: int = 200, media: str = "application/json") -> Response:
        return Response(body, status, media_type=media)

    def failure(err: RequestError) -> Response:
        return reply(encode.error(err.error_code, str(err)), err.status)

    async def ping(request: Request) -> Response:
        return reply(b"\n")

    async def version(request: Request) -> Response:
        return reply(__version__.encode(), media="text/plain")

    async def invocations(request: Request) -> Response:
        try:
            kind = media_type(request.headers.get("content-type"))
            body = await _read(request, max_body_bytes)
            if len(body) <= INLINE_BODY_BYTES:
                return reply(scorer.score(body, kind))
            return reply(await run_in_threadpool(scorer.score, body, kind))
        except RequestError as err:
            return failure(err)
        except Exception as err:  # a server bug: still JSON, never a traceback to the client
            logger.exception("scoring failed")
            return failure(RequestError(f"the server failed: {err}", 500, "INTERNAL_ERROR"))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        code = {404: "ENDPOINT_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
        message = (
            f"no endpoint {request.method} {request.url.path}; the scoring server has GET /ping, "
            "GET /health, GET /version and POST /invocations"
        )
        return failure(RequestError(message, status, code))

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
    ]
    return applications.Starlette(routes=routes, exception_handlers={HTTPException: not_found})


async def _read(request: Any, limit: int) -> bytes:
    """The request body, or a 413 RequestError once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> RequestError:
    return RequestError(
        f"the request body ({size:,} bytes or more) is over the server's limit of {limit:,} "
        "bytes; send the rows in smaller batches",
        413,
        "REQUEST_TOO_LARGE",
    )


def app_from_env() -> Any:
    """The app of a worker process: the model folder in ``$NBTRACK_SERVE_MODEL`` (uvicorn's
    ``--factory`` entry point, ``nbtrack.serving.app:app_from_env``)."""
    model_uri = os.environ.get(ENV_MODEL)
    if not model_uri:
        raise NbtrackError(f"${ENV_MODEL} is not set: start workers with `nbtrack serve`")
    limit = int(os.environ.get(ENV_MAX_BODY) or MAX_BODY_BYTES)
    return create_app(load(model_uri), max_body_bytes=limit)
