"""The admin surface every emulator serves under /__admin/ (health, journal, reset, state, faults, docs)."""

from __future__ import annotations

import datetime as dt
import html
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swagger_ui_bundle import swagger_ui_path

from emulators.core.contract import Contract, contracts_dir
from emulators.core.faults import FaultError
from emulators.core.http import Handler, HttpApp, HttpError, Request, Response, bind_contract, json_response
from emulators.core.journal import DIRECTIONS, Query

ADMIN_CONTRACT = "admin/admin.openapi.yaml"


@dataclass
class AdminBinding:
    """What the admin surface needs from an emulator."""

    name: str
    version: str
    counterpart: str
    state: Callable[[], dict[str, Any]]
    reset: Callable[[], None]
    contracts: dict[str, str] = field(default_factory=dict)  # docs name -> path under contracts/
    health: Callable[[], dict[str, Any]] | None = None  # Emulator.health: status and components


def render_admin_error(request: Request, status: int, message: str, code: str | None) -> Response:
    return json_response({"error": {"status": status, "message": message}}, status)


def mount_admin(app: HttpApp, binding: AdminBinding) -> None:
    """Route the shared admin contract into `app`."""
    handlers = _handlers(app, binding)
    bind_contract(app, Contract(contracts_dir() / ADMIN_CONTRACT), handlers, admin=True)


def _handlers(app: HttpApp, binding: AdminBinding) -> dict[str, Handler]:
    journal = app.journal
    documents = {"admin": ADMIN_CONTRACT, **binding.contracts}

    async def health(request: Request) -> Response:
        report = binding.health() if binding.health is not None else {"status": "ok"}
        body = {"name": binding.name, "version": binding.version, "counterpart": binding.counterpart, **report}
        return json_response(body)

    async def journal_list(request: Request) -> Response:
        limit = _int(request.query.get("limit"), "limit", 1, 10_000)
        events = journal.find(_query(request, default_since=0), limit=limit)
        body = {"events": [e.as_dict() for e in events], "count": len(events), "journal": journal.stats()}
        return json_response(body)

    async def journal_clear(request: Request) -> Response:
        journal.clear()
        return json_response({"cleared": True})

    async def journal_configure(request: Request) -> Response:
        spec = request.json()
        if not isinstance(spec, dict) or not isinstance(spec.get("enabled"), bool):
            raise HttpError(400, 'expected {"enabled": true|false}')
        journal.enabled = spec["enabled"]
        return json_response(journal.stats())

    async def journal_wait(request: Request) -> Response:
        timeout = _float(request.query.get("timeout"), "timeout", 0, 300, default=10.0)
        event = await journal.wait_for_async(_query(request, default_since=journal.last_id()), timeout)
        if event is None:
            return json_response({"matched": False, "event": None, "waited_seconds": timeout}, 408)
        return json_response({"matched": True, "event": event.as_dict()})

    async def reset(request: Request) -> Response:
        binding.reset()
        app.faults.remove()
        journal.clear()
        return json_response({"reset": True})

    async def state(request: Request) -> Response:
        return json_response({**binding.state(), "faults": app.faults.list(), "journal": journal.stats()})

    async def faults_list(request: Request) -> Response:
        return json_response({"faults": app.faults.list(), "supported": list(app.faults.supported)})

    async def faults_add(request: Request) -> Response:
        try:
            fault = app.faults.add(request.json())
        except FaultError as exc:
            raise HttpError(400, str(exc)) from exc
        return json_response({**fault.as_dict(), "remaining": fault.times}, 201)

    async def faults_clear(request: Request) -> Response:
        fault_id = _int(request.query.get("id"), "id", 0, 2**31)
        return json_response({"removed": app.faults.remove(fault_id)})

    async def docs(request: Request) -> Response:
        return Response(200, _swagger_page(binding.name, documents).encode(), "text/html; charset=utf-8")

    async def docs_asset(request: Request) -> Response:
        if request.path_params["asset"] in {"index.html", "index.htm"}:  # not the bundle's petstore page
            return await docs(request)
        return _static(Path(str(swagger_ui_path)), request.path_params["asset"])

    async def contract(request: Request) -> Response:
        name = request.path_params["name"].removesuffix(".yaml")
        if name not in documents:
            raise HttpError(404, f"no contract {name!r}; known: {', '.join(documents)}")
        text = (contracts_dir() / documents[name]).read_bytes()
        return Response(200, text, "application/yaml; charset=utf-8")

    return {
        "admin.health": health,
        "admin.journal.list": journal_list,
        "admin.journal.clear": journal_clear,
        "admin.journal.configure": journal_configure,
        "admin.journal.wait": journal_wait,
        "admin.reset": reset,
        "admin.state": state,
        "admin.faults.list": faults_list,
        "admin.faults.add": faults_add,
        "admin.faults.clear": faults_clear,
        "admin.docs": docs,
        "admin.docs.slash": docs,
        "admin.docs.asset": docs_asset,
        "admin.contract": contract,
    }


def _query(request: Request, default_since: int) -> Query:
    params = request.query
    since = params.get("since")
    since_id, since_time = default_since, 0.0
    if since:
        if since.isdigit():
            since_id = int(since)
        else:
            try:
                moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError as exc:
                raise HttpError(400, f"since must be an event id or an ISO 8601 time, got {since!r}") from exc
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            since_id, since_time = 0, moment.timestamp()
    direction = params.get("direction")
    if direction not in (None, *DIRECTIONS):
        raise HttpError(400, f"direction must be one of {', '.join(DIRECTIONS)}")
    attributes = tuple((k[len("attr.") :], v) for k, v in params.items() if k.startswith("attr.") and len(k) > 5)
    return Query(params.get("operation"), direction, since_id, since_time, params.get("outcome"), attributes)


def _int(raw: str | None, name: str, low: int, high: int) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise HttpError(400, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _float(raw: str | None, name: str, low: float, high: float, default: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise HttpError(400, f"{name} must be a number of seconds") from exc
    if not low <= value <= high:
        raise HttpError(400, f"{name} must be between {low} and {high}")
    return value


def _static(root: Path, name: str) -> Response:
    path = (root / name).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        raise HttpError(404, f"no such file {name!r}")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(200, path.read_bytes(), kind)


def _swagger_page(title: str, documents: dict[str, str]) -> str:
    urls = ",".join(
        f'{{url: "/__admin/contracts/{html.escape(name)}.yaml", name: "{html.escape(name)}"}}' for name in documents
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medstand · {html.escape(title)} · API docs</title>
<link rel="stylesheet" href="/__admin/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/__admin/docs/swagger-ui-bundle.js"></script>
<script src="/__admin/docs/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({{urls: [{urls}], dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout"}});
</script></body></html>"""
