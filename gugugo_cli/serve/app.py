"""The server: one engine (a Batcher) behind the LibreTranslate and DeepL v2 routes, bodies bounded, an API
key checked when one is set, and every error answered in the shape of the API that was called."""

from __future__ import annotations

import contextlib
from typing import Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..errors import first_line
from ..safety import format_size
from .answers import ApiError, error_response
from .state import MiB, Settings, State

UPLOAD_PATHS = frozenset({"/translate_file", "/v2/document"})


# A refused body is read and dropped up to this many bytes before the 413 goes out: a connection closed with
# unread bytes is reset, and the client, still sending, may lose the answer.
DRAIN_LIMIT = 64 * MiB


class _TooLarge(Exception):
    pass


async def _drain(receive, limit: int) -> None:
    drained = 0
    while drained <= limit:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        drained += len(message.get("body", b""))


class BodyLimit:
    """Refuses a body over the limit (413) before the route sees it: by its Content-Length when it has one,
    else as soon as the bytes received pass it. Uploads get the documents' limit, everything else max_body."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    def limit(self, path: str) -> int:
        return self.settings.limits.max_input + MiB if path in UPLOAD_PATHS else self.settings.max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._refuse(scope, receive, send, limit)
        received, started, whole = 0, False, False

        async def limited_receive():
            nonlocal received, whole
            message = await receive()
            received += len(message.get("body", b""))
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            if received > limit:
                raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit, drain=not whole)

    async def _refuse(self, scope, receive, send, limit: int, drain: bool = True):
        if drain:  # never wait for more of a body that has ended: none would come
            await _drain(receive, DRAIN_LIMIT)
        message = f"Request Entity Too Large: the body is over {format_size(limit)}"
        response = error_response(scope["path"], 413, message, {"Connection": "close"})
        await response(scope, receive, send)


async def _api_error(request: Request, e: ApiError):
    return error_response(request.url.path, e.status, e.message, e.headers)


async def _http_error(request: Request, e: HTTPException):
    return error_response(request.url.path, e.status_code, e.detail, getattr(e, "headers", None))


async def _internal_error(request: Request, e: Exception):
    return error_response(request.url.path, 500, f"Internal error: {first_line(e)}")


async def health(request: Request):
    state: State = request.app.state.gugugo
    return JSONResponse({"status": "ok", "model_loaded": True, **state.settings.info,
                         "queued_segments": state.batcher.queued, "batches": state.batcher.stats.batches})


def create_app(translator, settings: Optional[Settings] = None) -> Starlette:
    """The ASGI app around a loaded translator (translate_batch(texts, src, tgt))."""
    from . import deepl, libretranslate

    settings = settings or Settings()
    state = State(translator, settings)
    routes = [Route("/health", health, methods=["GET"])] + libretranslate.routes() + deepl.routes()
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        state.close()

    app = Starlette(routes=routes, middleware=[Middleware(BodyLimit, settings=settings)],
                    exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                                        Exception: _internal_error}, lifespan=lifespan)
    app.state.gugugo = state
    return app
