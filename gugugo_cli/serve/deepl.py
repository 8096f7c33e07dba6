"""The DeepL API v2: /v2/translate, /v2/languages, /v2/usage and the document flow (/v2/document, its status
and result), with DeepL's field names, language codes (KO, EN, EN-US, EN-GB) and error bodies
({"message": "..."}). The key comes as `Authorization: DeepL-Auth-Key KEY` (or the older auth_key field)."""

from __future__ import annotations

from typing import Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .answers import ApiError, json_object, read_upload
from .state import State
from .segments import detect, plan_text

SOURCES = {"KO": "ko", "EN": "en"}
TARGETS = {"KO": "ko", "EN": "en", "EN-US": "en", "EN-GB": "en"}
SOURCE_LIST = [{"language": "EN", "name": "English"}, {"language": "KO", "name": "Korean"}]
TARGET_LIST = [{"language": "EN-GB", "name": "English (British)", "supports_formality": False},
               {"language": "EN-US", "name": "English (American)", "supports_formality": False},
               {"language": "KO", "name": "Korean", "supports_formality": False}]
CHARACTER_LIMIT = 10 ** 15  # no quota: the model is local


async def _params(request: Request) -> dict:
    """Fields from a JSON body, a form or the query string; a form's repeated `text` becomes a list."""
    body = await json_object(request)
    if body is not None:
        return body
    form = await request.form(max_files=1, max_fields=256)
    params = {**dict(request.query_params), **{k: v for k, v in form.items()}}
    if "text" in form:
        params["text"] = form.getlist("text")
    return params


def _check_key(request: Request, params: Optional[dict] = None) -> None:
    state: State = request.app.state.gugugo
    header = request.headers.get("authorization", "")
    key = header[len("DeepL-Auth-Key "):].strip() if header.startswith("DeepL-Auth-Key ") else None
    if key is None and params is not None and isinstance(params.get("auth_key"), str):
        key = params["auth_key"]
    if not state.key_ok(key):
        raise ApiError(403, "Authorization failure, check auth_key")


def _languages(params: dict) -> tuple[str, str]:
    target, source = params.get("target_lang"), params.get("source_lang")
    if not target:
        raise ApiError(400, "Parameter 'target_lang' not specified.")
    if not isinstance(target, str) or target.upper() not in TARGETS:
        raise ApiError(400, "Value for 'target_lang' not supported.")
    if source and (not isinstance(source, str) or source.upper() not in SOURCES):
        raise ApiError(400, "Value for 'source_lang' not supported.")
    src = SOURCES[source.upper()] if source else "auto"
    tgt = TARGETS[target.upper()]
    if src == tgt:
        raise ApiError(400, "Value for 'target_lang' must differ from 'source_lang'.")
    return src, tgt


def _markup(params: dict) -> bool:
    tag_handling = params.get("tag_handling")
    if tag_handling in (None, ""):
        return False
    if tag_handling not in ("html", "xml"):
        raise ApiError(400, "Value for 'tag_handling' not supported.")
    return True


async def translate(request: Request):
    state: State = request.app.state.gugugo
    params = await _params(request)
    _check_key(request, params)
    texts = params.get("text")
    if texts is None:
        raise ApiError(400, "Parameter 'text' not specified.")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ApiError(400, "Parameter 'text' must be a string or a list of strings.")
    src, tgt = _languages(params)
    markup = _markup(params)
    works = await run_in_threadpool(lambda: [plan_text(t, tgt, src, markup) for t in texts])
    done = await state.translate(works, tgt)
    state.characters += sum(map(len, texts))
    translations = []
    for text, work in zip(texts, works):
        detected = src if src != "auto" else (detect(text)[0] or "en")
        translations.append({"detected_source_language": detected.upper(), "text": work.render_text(done),
                             "billed_characters": len(text)})
    return JSONResponse({"translations": translations})


async def languages(request: Request):
    params = await _params(request)
    _check_key(request, params)
    kind = params.get("type", "source")
    if kind not in ("source", "target"):
        raise ApiError(400, "Value for 'type' not supported.")
    return JSONResponse(TARGET_LIST if kind == "target" else SOURCE_LIST)


async def usage(request: Request):
    state: State = request.app.state.gugugo
    _check_key(request, await _params(request))
    return JSONResponse({"character_count": state.characters, "character_limit": CHARACTER_LIMIT})


async def document_upload(request: Request):
    state: State = request.app.state.gugugo
    form, upload = await read_upload(request, "Parameter 'file' not specified.", 32,
                                     lambda params: _check_key(request, params))
    src, tgt = _languages(dict(form))
    filename = form.get("filename") if isinstance(form.get("filename"), str) else None
    output_format = form.get("output_format")
    name = filename or upload.filename or ""
    if output_format and not name.lower().endswith("." + str(output_format).lower()):
        raise ApiError(400, "Conversion between different document formats is not supported.")
    entry = await state.documents.start(upload, src, tgt, filename)
    return JSONResponse({"document_id": entry.id, "document_key": entry.key})


async def _entry(request: Request):
    state: State = request.app.state.gugugo
    params = await _params(request)
    _check_key(request, params)
    key = params.get("document_key")
    entry = state.documents.get(request.path_params["document_id"], key if isinstance(key, str) else "")
    if entry is None:
        raise ApiError(404, "Document not found.")
    return state, entry


async def document_status(request: Request):
    state, entry = await _entry(request)
    # a short wait answers most small documents as done at the first look (clients poll every few seconds)
    await state.documents.wait(entry, 2.0)
    body = {"document_id": entry.id, "status": entry.status}
    if entry.status == "done":
        body["billed_characters"] = entry.characters
    elif entry.status == "error":
        body["error_message"] = entry.error
    else:
        body["seconds_remaining"] = 5
    return JSONResponse(body)


async def document_result(request: Request):
    state, entry = await _entry(request)
    if entry.status != "done":
        raise ApiError(503, "Document not ready.", {"Retry-After": "5"})
    state.characters += entry.characters
    return state.documents.take(entry)


def routes() -> list[Route]:
    return [
        Route("/v2/translate", translate, methods=["POST"]),
        Route("/v2/languages", languages, methods=["GET", "POST"]),
        Route("/v2/usage", usage, methods=["GET", "POST"]),
        Route("/v2/document", document_upload, methods=["POST"]),
        Route("/v2/document/{document_id}", document_status, methods=["POST"]),
        Route("/v2/document/{document_id}/result", document_result, methods=["POST"]),
    ]
