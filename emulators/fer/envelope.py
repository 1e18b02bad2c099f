"""The shapes FER answers in: the showcase envelope of Приложение 2, /auth.svc's own, and how /api reads a body."""

from __future__ import annotations

from typing import Any

import orjson

from emulators.core.formats import is_date
from emulators.core.http import HttpError, Request, Response
from emulators.fer import catalogue as texts
from emulators.fer.showcase import Row


def envelope(status: int, **parts: Any) -> Response:
    """Приложение 2: isSuccess, [result], error, errors, sendedGuids, sendedGuidsToContactCenter, statusCode."""
    body: dict[str, Any] = {"isSuccess": 200 <= status < 300}
    if "result" in parts:
        body["result"] = parts["result"]
    body["error"] = parts.get("error")
    body["errors"] = parts.get("errors")
    body["sendedGuids"] = parts.get("sended")
    body["sendedGuidsToContactCenter"] = parts.get("contact")
    body["statusCode"] = status
    return Response(status, orjson.dumps(body), outcome="ok" if 200 <= status < 300 else "rejected")


def status_text(status: int) -> texts.Text:
    """The catalogue's text for an HTTP status; an unlisted status keeps its own number as the code."""
    known = texts.STATUS.get(status)
    if known is not None:
        return known
    return texts.Text(str(status), texts.STATUS[500].template if status >= 500 else texts.STATUS[400].template,
                      texts.RECONSTRUCTED)  # fmt: skip


def error_envelope(status: int, message: str | None = None, code: str | None = None) -> Response:
    if 200 <= status < 300:  # a fault forcing a success status: a success envelope, not an error one
        return envelope(status)
    text = status_text(status)
    return envelope(status, error={"errorMessage": message or text.template, "errorCode": code or text.code})


def auth_answer(status: int, message: str, result: dict[str, str] | None = None) -> Response:
    body = {"Result": result, "IsSuccess": result is not None, "ErrorMessage": message, "StatusCode": status}
    return Response(status, orjson.dumps(body), outcome="ok" if result else "rejected")


def json_body(request: Request) -> Any:
    """The JSON body of an /api call; 400 in the showcase's words for a wrong content type or bad JSON."""
    require_json(request)
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, texts.NOT_JSON.format(reason=not_json_reason(request.body)), texts.NOT_JSON.code) from exc


def not_json_reason(body: bytes) -> str:
    """Why a body is not JSON, in the seed's language (never the parser's English)."""
    if not body.strip():
        return "тело запроса пустое"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "тело запроса не в кодировке UTF-8"
    return "тело запроса не является корректным JSON"


def require_json(request: Request) -> None:
    kind = request.headers.get("content-type", "")
    if kind.split(";", 1)[0].strip().lower() not in {"application/json", "text/json"}:
        text = texts.WRONG_CONTENT_TYPE
        raise HttpError(400, text.format(content_type=kind or "не указан"), text.code)


def id_param(request: Request) -> str:
    key = request.query.get("id", "").strip()
    if not key:
        raise HttpError(400, texts.ID_REQUIRED.format(name="id"), texts.ID_REQUIRED.code)
    return key


def date_param(request: Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    if not value:
        return None
    if not is_date(value):
        raise HttpError(400, texts.BAD_DATE_PARAM.format(name=name), texts.BAD_DATE_PARAM.code)
    return value


def listing(rows: list[Row]) -> Response:
    return envelope(200, result=[row.record for row in rows])
