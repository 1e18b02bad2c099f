"""The issue's reference stack: Starlette + orjson + fastjsonschema behind uvicorn, schema validation only.

    python benchmarks/_reference_app.py --port 8123

`POST /api/slot` with `{"data": [...]}`: parse with orjson, validate every record with a fastjsonschema validator
compiled from a plain draft-07 Slot schema, answer the FER envelope with `sendedGuids` = the ids. No auth, no
storage, no custom formats. `GET /__admin/health` answers 200 so the benchmarks can wait for it.

Starlette is not a project dependency (`pip install starlette` into the venv to run this); the benchmarks use
it only here, because it is what the issue measured its reference figures with.
"""

from __future__ import annotations

import argparse
import gzip
from typing import Any

import fastjsonschema
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

GUID = {"type": "string", "maxLength": 45}
TAGS = "EPGU|ORDINARY|RESERVE|PAID|CENTER|REFERRAL|D_OBSERVATION|INFOMAT|REGISTRY|EQUEUE|ONLINE"
SLOT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["id", "mo_id", "resource_id", "tag_type", "tag_age", "visit_time", "duration", "status", "create_ts"],
    "properties": {
        "id": GUID,
        "mo_id": GUID,
        "resource_id": GUID,
        "tag_type": {"type": "string", "maxLength": 256, "pattern": f"^ *({TAGS}) *(, *({TAGS}) *)*$"},
        "tag_age": {"type": "string", "enum": ["ADULT", "CHILD", "BABY", "ALL"]},
        "visit_time": {"type": "string", "maxLength": 19},
        "duration": {"type": "integer", "minimum": 1, "maximum": 1440},
        "status": {"type": "string", "enum": ["AVAILABLE", "RECORDED", "CANCELED", "RESERVED", "BLOCKED"]},
        "create_ts": {"type": "string", "maxLength": 64},
    },
}
validate_slot = fastjsonschema.compile(SLOT_SCHEMA)


def envelope(status: int, sended: list[str] | None = None, error: str | None = None) -> Response:
    """The FER answer envelope (Приложение 2), as JSON with the HTTP status equal to `statusCode`."""
    body = {"isSuccess": status == 200, "error": error and {"errorMessage": error, "errorCode": None}, "errors": None,
            "sendedGuids": sended, "sendedGuidsToContactCenter": None, "statusCode": status}  # fmt: skip
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def post_slot(request: Request) -> Response:
    """Parse, validate every record, echo the ids."""
    raw = await request.body()
    if request.headers.get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    try:
        records = orjson.loads(raw)["data"]
        for record in records:
            validate_slot(record)
        return envelope(200, sended=[record["id"] for record in records])
    except (orjson.JSONDecodeError, fastjsonschema.JsonSchemaException, KeyError, TypeError) as exc:
        return envelope(400, error=str(exc))


async def health(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(routes=[Route("/api/slot", post_slot, methods=["POST"]), Route("/__admin/health", health)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # The gateway's server settings (emulators.core.runner.make_server), with httptools and uvloop spelt out.
    # host/port go to uvicorn, whose loop.create_server makes an IPPROTO_TCP socket, so TCP_NODELAY is set.
    uvicorn.run(
        app, host=args.host, port=args.port, http="httptools", loop="uvloop", log_level="warning", access_log=False,
        proxy_headers=False, server_header=False, date_header=False, lifespan="off", timeout_keep_alive=30,
    )  # fmt: skip


if __name__ == "__main__":
    main()
