"""The answers both APIs give other than a translation: an error with its status, shaped as the API called
expects ({"message"} for DeepL's /v2/, {"error"} for LibreTranslate's), and a JSON body read or refused."""

from __future__ import annotations

import json
from typing import Optional

from starlette.requests import Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    """An answer other than 200: its status, message and headers (Retry-After); shaped by the API called."""

    def __init__(self, status: int, message: str, headers: Optional[dict] = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


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


async def read_upload(request: Request, missing: str, max_fields: int, check_key):
    """An upload's multipart form and its file, the key checked (check_key(form)) before the file is looked
    for; ApiError(400, missing) when there is no file."""
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise ApiError(400, missing)
    form = await request.form(max_files=1, max_fields=max_fields)
    check_key(dict(form))
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ApiError(400, missing)
    return form, upload


async def json_object(request: Request) -> Optional[dict]:
    """The body as a JSON object when the request says it is JSON; None for another body (a form)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid request: the JSON body must be an object")
    return body
