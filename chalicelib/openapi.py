"""The OpenAPI document, generated from the operations and the pydantic models that validate
them, so that the published schema cannot drift from what the routes accept."""

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .web import Operation

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "code", "message", "param"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "invalid_request",
                        "authentication",
                        "permission",
                        "not_found",
                        "conflict",
                        "gone",
                        "rate_limited",
                        "api_error",
                    ],
                },
                "code": {"type": "string"},
                "message": {"type": "string"},
                # the offending field, `lines[0].quantity`; null when no one field is at fault
                "param": {"type": ["string", "null"]},
            },
        }
    },
}


_ERRORS = {
    "400": "Invalid request: a malformed parameter or body (`param` names it)",
    "401": "No API key, or not a valid one (webhook routes: no valid signature)",
    "402": "The payment was declined",
    "403": "The key lacks the scope this route needs",
    "404": "No such object (or another merchant's)",
    "410": "Gone: the customer was erased",
    "409": "Conflict: a state that does not allow this, a concurrent change, or an "
    "`Idempotency-Key` reused with another body",
    "413": "The body is larger than the limit",
    "415": "The body is not JSON",
    "422": "The body (or the Idempotency-Key) does not validate (`param` names it)",
    "429": "Too many requests",
    "500": "Internal error (logged; no details leave the API)",
    "503": "A service behind the API is unavailable; retry",
}

_SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A merchant's API key (`sk_test_…`, `sk_live_…`) with the route's scope.",
    },
}

_WEBHOOK_HEADERS = [
    ("webhook-id", "The event's id (evt_…), the same on every retry: de-duplicate on it."),
    ("webhook-timestamp", "Unix seconds of this attempt; reject one more than 5 minutes off."),
    (
        "webhook-signature",
        "`v1,<base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}'>` keyed with the "
        "endpoint's secret (base64 after `whsec_`); space-separated, one per live secret, "
        "while a rotated secret is still in its grace period.",
    ),
]


def document(
    operations: list[Operation],
    version: str,
    server_url: str = "/",
    webhooks: Mapping[str, tuple[type[BaseModel], type[BaseModel]]] | None = None,
) -> dict:
    """The OpenAPI 3.1 document. `webhooks`: event type -> (envelope, data) models, for the
    `webhooks` section (the events we send to merchants' endpoints)."""
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.query is not None:
            models.append((op.query, "validation"))
        if isinstance(op.returns, type) and issubclass(op.returns, BaseModel):
            models.append((op.returns, "serialization"))
    for envelope, data in (webhooks or {}).values():
        models += [(envelope, "serialization"), (data, "serialization")]
    refs, defs = models_json_schema(
        list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}"
    )
    schemas = defs.get("$defs", {})
    schemas["Error"] = _ERROR_SCHEMA

    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, schemas)
    spec: dict = {
        "openapi": "3.1.0",
        "info": {
            "title": "Shoppable API",
            "version": version,
            "description": "Social commerce: catalog, shoppable posts, checkout, orders, the "
            "customer vault, and signed webhooks (Standard Webhooks) for every event.",
        },
        "servers": [{"url": server_url}],
        "components": {"schemas": schemas, "securitySchemes": _SECURITY_SCHEMES},
        "paths": paths,
    }
    if webhooks:
        spec["webhooks"] = {
            name: _webhook(name, refs[(envelope, "serialization")], refs[(data, "serialization")])
            for name, (envelope, data) in webhooks.items()
        }
    return spec


def _webhook(name: str, envelope: dict, data: dict) -> dict:
    schema = {"allOf": [envelope, {"type": "object", "properties": {
        "type": {"const": name}, "data": data}}]}  # fmt: skip
    return {
        "post": {
            "summary": f"`{name}`, sent to every endpoint subscribed to it",
            "operationId": "webhook_" + name.replace(".", "_"),
            "parameters": [
                {
                    "name": header,
                    "in": "header",
                    "required": True,
                    "description": about,
                    "schema": {"type": "string"},
                }
                for header, about in _WEBHOOK_HEADERS
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {
                "2XX": {"description": "Received. Anything else is retried with backoff"},
                "410": {"description": "Gone: the endpoint is disabled at once"},
            },
        }
    }


def _operation(op: Operation, refs: dict, schemas: dict) -> dict:
    spec: dict = {"summary": op.summary, "operationId": op.handler.__name__}
    spec["security"] = [] if op.public else [{"apiKey": []}]
    path_names = re.findall(r"{(\w+)}", op.path)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path_names
    ]
    if op.query is not None:
        query = schemas[refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[1]]
        required = set(query.get("required", []))
        for name, schema in query["properties"].items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
    if op.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
            }
        )
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        spec["requestBody"] = {
            "required": any(f.is_required() for f in op.body.model_fields.values()),
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    success: dict = {"description": "Success"}
    if isinstance(op.returns, type) and issubclass(op.returns, BaseModel):
        success["content"] = {"application/json": {"schema": refs[(op.returns, "serialization")]}}
    elif op.produces is not None:
        success["content"] = {op.produces: {"schema": {"type": "string"}}}
    spec["responses"] = {str(op.status): success, **_errors(op, bool(path_names))}
    return spec


def _errors(op: Operation, has_path_params: bool) -> dict:
    """The error answers this route can give, each with the contract's error body."""
    codes = ["400", "429", "500", "503"]
    signed = op.path.startswith("/v1/webhooks/") or (
        op.method == "POST" and op.path.startswith("/v1/connections/meta/")  # signed_request
    )
    if not op.public or signed:  # keys, or platforms' signatures
        codes += ["401", "403"]
    if op.path.startswith("/v1/customers/"):
        codes.append("410")
    if op.method == "POST" and op.path.startswith(("/v1/checkouts", "/v1/orders/")):
        codes.append("402")
    names_an_object = op.body is not None and any(n.endswith("_id") for n in op.body.model_fields)
    if has_path_params or not op.public or names_an_object:  # e.g. the beacon's post_id
        codes.append("404")
    if op.body is not None:
        codes += ["415", "422"]
    if op.idempotent:
        codes.append("422")  # an Idempotency-Key that is not 1 to 255 printable characters
    if op.method in ("POST", "PATCH", "DELETE"):
        codes += ["409", "413"]  # any body is measured before it is parsed
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {code: {"description": _ERRORS[code], "content": body} for code in sorted(set(codes))}
