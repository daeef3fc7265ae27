"""The OpenAPI document, generated from the operations and the pydantic models that validate
them, so that the published schema cannot drift from what the routes accept."""

import re
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


_REF = "#/components/schemas/{model}"


def document(operations: list[Operation], version: str) -> dict:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        if isinstance(op.returns, type) and issubclass(op.returns, BaseModel):
            models.append((op.returns, "serialization"))
    refs, defs = models_json_schema(models, ref_template=_REF)
    schemas = defs.get("$defs", {})
    for op in operations:  # what query parameters refer to (OrderStatus, Purpose) is shared
        if op.query is not None:
            schemas.update(op.query.model_json_schema(ref_template=_REF).get("$defs", {}))
    schemas["Error"] = _ERROR_SCHEMA

    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shoppable API", "version": version},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "paths": paths,
    }


def _operation(op: Operation, refs: dict) -> dict:
    spec: dict = {"summary": op.summary, "operationId": op.handler.__name__}
    spec["security"] = [] if op.public else [{"apiKey": []}]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    if op.query is not None:
        query = op.query.model_json_schema(ref_template=_REF)
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
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    success: dict = {"description": "Success"}
    if isinstance(op.returns, type) and issubclass(op.returns, BaseModel):
        success["content"] = {"application/json": {"schema": refs[(op.returns, "serialization")]}}
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    spec["responses"] = {str(op.status): success, "4XX": error, "5XX": error}
    return spec
