"""`gugugo-serve`: a local translation server speaking the LibreTranslate and DeepL v2 APIs.

Needs the `serve` extra (Starlette, uvicorn, python-multipart); importing gugugo_cli never imports them.
"""
