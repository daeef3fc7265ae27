"""Liveness, and the API's own description."""

from typing import Any

from ..openapi import document
from ..services import health
from ..web import Call, Routes, operations

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/health", "GET", public=True, summary="Liveness and versions", returns=health.Health
)
def get_health(call: Call) -> health.Health:
    return health.check(call.rt.table)


@routes.route("/v1/openapi.json", "GET", public=True, summary="This API's OpenAPI document")
def get_openapi(call: Call) -> dict[str, Any]:
    from ..domain.outbound import EVENT_DATA, Event

    request = blueprint.current_request
    # The API's own base URL, as the caller reached it (with API Gateway's stage prefix).
    path = (request.context or {}).get("path") or request.path
    base = path.removesuffix("/v1/openapi.json")
    host = call.headers.get("host")
    scheme = call.headers.get("x-forwarded-proto", "http")  # API Gateway sets it: https
    server = f"{scheme}://{host}{base}" if host else base or "/"
    webhooks = {t.value: (Event, model) for t, model in EVENT_DATA.items()}
    return document(operations(blueprint.current_app), health.SERVICE_VERSION, server, webhooks)
