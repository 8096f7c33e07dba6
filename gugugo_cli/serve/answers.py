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
