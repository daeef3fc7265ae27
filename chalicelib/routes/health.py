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
    return document(operations(blueprint.current_app), health.SERVICE_VERSION)
