"""The LibreTranslate API: /translate, /languages, /detect, /translate_file and /download_file, with its field
names, status codes and error bodies ({"error": "..."})."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..languages import NAMES
from .answers import ApiError, json_object, read_upload
from .state import State
from .segments import LANGUAGES, detect, plan_text


async def _params(request: Request) -> dict:
    """The request's fields, from a JSON body or a form (LibreTranslate takes both)."""
    body = await json_object(request)
    if body is not None:
        return body
    form = await request.form(max_files=1, max_fields=64)
    params = {k: form.getlist(k) if k == "q" and len(form.getlist(k)) > 1 else v for k, v in form.items()}
    return {**dict(request.query_params), **params}


def _check_key(state: State, params: dict) -> None:
    key = params.get("api_key")
    if state.key_ok(key if isinstance(key, str) else None):
        return
    if not key:
        raise ApiError(400, "Please contact the server operator to get an API key")
    raise ApiError(403, "Invalid API key")


def _languages(source, target) -> tuple[str, str]:
    for name, value in (("source", source), ("target", target)):
        if not value:
            raise ApiError(400, f"Invalid request: missing {name} parameter")
        if not isinstance(value, str):
            raise ApiError(400, f"Invalid request: {name} must be a string")
    if source != "auto" and source not in LANGUAGES:
        raise ApiError(400, f"{source} is not supported")
    if target not in LANGUAGES:
        raise ApiError(400, f"{target} is not supported")
    if source == target:
        raise ApiError(400, f"{NAMES[target]} ({target}) is not available as a target language from "
                            f"{NAMES[source]} ({source})")
    return source, target


def _detected(text: str) -> dict:
    lang, confidence = detect(text)
    return {"confidence": confidence, "language": lang or "en"}


async def translate(request: Request):
    state: State = request.app.state.gugugo
    params = await _params(request)
    _check_key(state, params)
    q = params.get("q")
    if not q:
        raise ApiError(400, "Invalid request: missing q parameter")
    batch = isinstance(q, list)
    texts = q if batch else [q]
    if not all(isinstance(t, str) for t in texts):
        raise ApiError(400, "Invalid request: q must be a string or a list of strings")
    source, target = _languages(params.get("source"), params.get("target"))
    text_format = params.get("format") or "text"
    if text_format not in ("text", "html"):
        raise ApiError(400, f"{text_format} format is not supported")
    works = await run_in_threadpool(lambda: [plan_text(t, target, source, text_format == "html") for t in texts])
    done = await state.translate(works, target)
    state.characters += sum(map(len, texts))
    results = [w.render_text(done) for w in works]
    body = {"translatedText": results if batch else results[0]}
    if source == "auto":
        detected = [_detected(t) for t in texts]
        body["detectedLanguage"] = detected if batch else detected[0]
    return JSONResponse(body)


async def languages(request: Request):
    return JSONResponse([{"code": c, "name": NAMES[c], "targets": [t for t in LANGUAGES if t != c]}
                         for c in LANGUAGES])


async def detect_route(request: Request):
    state: State = request.app.state.gugugo
    params = await _params(request)
    _check_key(state, params)
    q = params.get("q")
    if not q or not isinstance(q, str):
        raise ApiError(400, "Invalid request: missing q parameter")
    return JSONResponse([_detected(q)])


async def translate_file(request: Request):
    state: State = request.app.state.gugugo
    form, upload = await read_upload(request, "Invalid request: missing file parameter", 16,
                                     lambda params: _check_key(state, params))
    source, target = _languages(form.get("source"), form.get("target"))
    entry = await state.documents.start(upload, source, target)
    await state.documents.wait(entry, state.documents.ttl)
    if entry.status != "done":
        raise ApiError(500 if entry.status == "error" else 503, entry.error or "the translation is not done yet")
    url = f"{str(request.base_url).rstrip('/')}/download_file/{entry.id}.{entry.name}"
    return JSONResponse({"translatedFileUrl": url})


async def download_file(request: Request):
    state: State = request.app.state.gugugo
    document_id = request.path_params["filename"].split(".", 1)[0]
    entry = state.documents.get(document_id)
    if entry is None or entry.status != "done":
        raise ApiError(404, "Invalid filename")
    return state.documents.take(entry)


def routes() -> list[Route]:
    return [
        Route("/translate", translate, methods=["POST"]),
        Route("/languages", languages, methods=["GET"]),
        Route("/detect", detect_route, methods=["POST"]),
        Route("/translate_file", translate_file, methods=["POST"]),
        Route("/download_file/{filename}", download_file, methods=["GET"]),
    ]

