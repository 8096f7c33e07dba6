"""The server: one engine (a Batcher) behind the LibreTranslate and DeepL v2 routes, bodies bounded, an API
key checked when one is set, and every error answered in the shape of the API that was called."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..errors import first_line
from ..safety import Limits, format_size
from .batching import Batcher, Busy
from .segments import Work

MiB = 1 << 20
UPLOAD_PATHS = frozenset({"/translate_file", "/v2/document"})


class ApiError(Exception):
    """An answer other than 200: its status, message and headers (Retry-After); shaped by the API called."""

    def __init__(self, status: int, message: str, headers: Optional[dict] = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class Settings:
    api_key: Optional[str] = None  # when set, every translation request must carry it
    timeout: float = 60.0  # seconds a text request may wait for its translation
    max_body: int = 1 * MiB  # bytes of a text request's body
    limits: Limits = field(default_factory=Limits)  # an uploaded document, as the CLI's inputs
    max_queue: int = 4096  # segments waiting for the engine
    max_batch: int = 256  # segments per engine call
    document_ttl: float = 3600.0  # seconds a document (and its translation) is kept at most
    max_documents: int = 16  # documents being translated or waiting for download
    cache_path: Optional[Path] = None  # the segment cache (None: none)
    cache_key: str = ""
    info: dict = field(default_factory=dict)  # model, engine, device for /health


class State:
    def __init__(self, translator, settings: Settings):
        from .documents import DocumentStore

        self.settings = settings
        self.batcher = Batcher(translator, settings.max_queue, settings.max_batch, settings.cache_path,
                               settings.cache_key)
        self.documents = DocumentStore(self.batcher, settings)
        self.characters = 0  # source characters translated (DeepL's /v2/usage)

    def key_ok(self, given: Optional[str]) -> bool:
        wanted = self.settings.api_key
        return wanted is None or (given is not None and hmac.compare_digest(given.encode(), wanted.encode()))

    async def translate(self, works: list[Work], tgt: str) -> dict:
        """Every segment of `works` through the shared engine: (src, text) -> translation."""
        keys = list(dict.fromkeys(k for w in works for k in w.keys()))
        if not keys:
            return {}
        if len(keys) > self.batcher.max_queue:
            raise ApiError(400, f"Invalid request: request ({len(keys)} segments) exceeds text limit "
                                f"({self.batcher.max_queue})")
        try:
            futures = self.batcher.submit((src, tgt, text) for src, text in keys)
        except Busy as e:
            raise ApiError(503, str(e), {"Retry-After": str(e.retry_after)}) from None
        try:
            outputs = await asyncio.wait_for(asyncio.gather(*map(asyncio.wrap_future, futures)),
                                             self.settings.timeout)
        except asyncio.TimeoutError:
            for f in futures:
                f.cancel()
            raise ApiError(503, f"translation took longer than {self.settings.timeout:g} s",
                           {"Retry-After": str(self.batcher.retry_after())}) from None
        except Exception as e:  # the engine failed on these segments
            raise ApiError(500, f"Cannot translate text: {first_line(e)}") from None
        return dict(zip(keys, outputs))

    def close(self) -> None:
        self.documents.close()
        self.batcher.close()


def is_deepl(path: str) -> bool:
    return path.startswith("/v2/")


def error_body(path: str, message: str) -> dict:
    return {"message": message} if is_deepl(path) else {"error": message}


def error_response(path: str, status: int, message: str, headers: Optional[dict] = None) -> JSONResponse:
    return JSONResponse(error_body(path, message), status, headers=headers)


async def read_json(request: Request):
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Invalid request: malformed JSON") from None


class _TooLarge(Exception):
    pass


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
        received, started = 0, False

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
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
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope, receive, send, limit: int):
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
