"""The HTTP edge: one declaration per route, and everything every route does the same way.

`Api.route` registers a Chalice route and records the operation for the OpenAPI document. At
request time it authenticates the key and checks its scope, enforces the body size, parses the
body and query into the operation's pydantic models, applies `Idempotency-Key`, calls the
handler, and turns any error into the contract's JSON error body. It also answers CORS for
public routes and writes one structured log line per request.
"""

import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalice import Chalice, Response

from .domain.scopes import Scope
from .errors import (
    InvalidRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    ShoppableError,
    UnsupportedMediaType,
    ValidationFailed,
)
from .lazy import resolve
from .observability import logger

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from .domain.merchants import ApiKey
    from .runtime import Runtime

# Chalice answers 415 itself for types not listed; we list the usual ones and answer in our
# own error format instead.
_ACCEPTED_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


@dataclass
class Call:
    """What a handler gets: the runtime, the caller's key, and the parsed request."""

    rt: "Runtime"
    key: "ApiKey | None"
    body: Any
    query: Any
    headers: dict[str, str]
    raw_body: bytes = b""

    @property
    def merchant_id(self) -> str:
        assert self.key is not None, "only authenticated routes have a merchant"
        return self.key.merchant_id

    def page_size(self) -> int:
        return getattr(self.query, "limit", None) or self.rt.settings.page_size


@dataclass
class Operation:
    """A route's declaration. Models may be given by reference (see `lazy.resolve`); they are
    loaded when first needed, so declaring routes costs no start-up time."""

    path: str
    method: str
    handler: Callable
    summary: str
    scope: Scope | frozenset[Scope] | None  # a set: any one of them
    body_ref: Any
    query_ref: Any
    returns_ref: Any
    status: int
    idempotent: bool
    public: bool
    errors: list[int] = field(default_factory=list)

    @cached_property
    def body(self) -> "type[BaseModel] | None":
        return resolve(self.body_ref)

    @cached_property
    def query(self) -> "type[BaseModel] | None":
        return resolve(self.query_ref)

    @cached_property
    def returns(self) -> Any:
        return resolve(self.returns_ref)


class Api:
    def __init__(self, app: Chalice):
        self.app = app
        self.operations: list[Operation] = []

    def route(
        self,
        path: str,
        method: str,
        *,
        summary: str,
        scope: Scope | frozenset[Scope] | None = None,
        public: bool = False,
        body: Any = None,
        query: Any = None,
        returns: Any = None,
        status: int = 200,
        idempotent: bool = False,
    ) -> Callable:
        assert public or scope is not None, f"{method} {path}: give a scope or mark it public"

        def register(handler: Callable) -> Callable:
            op = Operation(
                path,
                method,
                handler,
                summary,
                scope,
                body,
                query,
                returns,
                status,
                idempotent,
                public,
            )
            self.operations.append(op)

            def view(**params: str) -> Response:
                return self._serve(op, params)

            view.__name__ = handler.__name__
            self.app.route(path, methods=[method], content_types=_ACCEPTED_TYPES)(view)
            return handler

        return register

    def preflight(self, *paths: str) -> None:
        """Answer browsers' CORS preflight (OPTIONS) on public storefront paths."""
        for path in paths:

            def view(**params: str) -> Response:
                request = self.app.current_request
                headers = _cors_headers(request.headers.get("origin"), _runtime())
                if headers:
                    headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                    headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
                    headers["Access-Control-Max-Age"] = "600"
                return Response(body="", status_code=204, headers=headers)

            view.__name__ = "preflight_" + path.strip("/").replace("/", "_").strip("{}")
            self.app.route(path, methods=["OPTIONS"], content_types=_ACCEPTED_TYPES)(view)

    def _serve(self, op: Operation, params: dict[str, str]) -> Response:
        started = time.perf_counter()
        request = self.app.current_request
        rt = _runtime()
        context = request.context or {}
        request_id = context.get("requestId") or uuid.uuid4().hex
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(request_id=request_id)
        try:
            key = None
            if op.scope is not None:
                from .services.merchants import authenticate, require

                key = authenticate(rt.merchants, request.headers.get("authorization"))
                logger.thread_safe_append_keys(merchant_id=key.merchant_id)
                require(key, op.scope)
            call = Call(
                rt=rt,
                key=key,
                body=_parse_body(op, request, rt.settings.max_body_bytes),
                query=_parse_query(op, request.query_params or {}),
                headers=dict(request.headers),
                raw_body=request.raw_body or b"",
            )
            idempotency_key = request.headers.get("idempotency-key")
            if op.idempotent and idempotency_key is not None:
                from .services.idempotency import replay_or_run

                scope = key.merchant_id if key else f"{op.method} {op.path}"
                fingerprint = f"{op.method} {request.path}\n".encode() + (request.raw_body or b"")
                status, body = _replayable(
                    replay_or_run(
                        rt.idempotency_store,
                        rt.settings.idempotency_ttl_seconds,
                        scope,
                        idempotency_key,
                        fingerprint,
                        lambda: _run(op, call, params),
                        getattr(self.app, "lambda_context", None),
                    )
                )
            else:
                status, body = _replayable(_run(op, call, params))
        except ShoppableError as error:
            status, body = error.status, error.to_body()
        except Exception as error:
            logger.exception("unhandled error", extra={"route": f"{op.method} {op.path}"})
            if _unreachable(error):
                unavailable = ServiceUnavailable("A service we depend on did not answer; retry.")
                status, body = unavailable.status, unavailable.to_body()
            else:
                status = 500
                body = {
                    "error": {
                        "type": "api_error",
                        "code": "internal_error",
                        "message": "An internal error occurred; it has been logged.",
                    }
                }
        headers = {"Content-Type": "application/json", "Request-Id": request_id}
        if op.public:
            headers.update(_cors_headers(request.headers.get("origin"), rt))
        if isinstance(body, Response):
            body.headers = {**headers, **(body.headers or {})}
        logger.info(
            "request",
            extra={
                "route": f"{op.method} {op.path}",
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        if isinstance(body, Response):
            return body
        return Response(body=json.dumps(body), status_code=status, headers=headers)


def _unreachable(error: Exception) -> bool:
    """An AWS call that timed out, could not connect or got a 5xx, retries spent: 503, worth
    retrying (the adapters translate the errors they expect; this is the net under them)."""
    exceptions = sys.modules.get("botocore.exceptions")  # loaded if the error came from it
    if exceptions is None:
        return False
    if isinstance(error, exceptions.HTTPClientError):
        return True
    if isinstance(error, exceptions.ClientError):
        return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
    return False


def _run(op: Operation, call: Call, params: dict[str, str]) -> dict:
    result = op.handler(call, **params)
    if isinstance(result, Response):  # a handler that answers other than JSON (webhook handshakes)
        return {"status": result.status_code, "body": result}
    body = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    return {"status": op.status, "body": body}


def _replayable(outcome: dict) -> tuple[int, Any]:
    return outcome["status"], outcome["body"]


def _runtime() -> "Runtime":
    from .runtime import runtime

    return runtime()


def _cors_headers(origin: str | None, rt: "Runtime") -> dict[str, str]:
    allowed = rt.settings.cors_allowed_origins
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    if origin and origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


def _parse_body(op: Operation, request, max_bytes: int) -> "BaseModel | None":
    raw: bytes = request.raw_body or b""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")
    if op.body is None:
        return None
    if not raw.strip():
        if any(field.is_required() for field in op.body.model_fields.values()):
            raise InvalidRequest("The request needs a JSON body.", code="body_missing")
        raw = b"{}"  # every field is optional (refund, cancel): no body means the defaults
    elif _media_type(request) != "application/json":
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
    from pydantic import ValidationError

    try:
        return op.body.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise _as_contract_error(error, body=True) from None


def _media_type(request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _parse_query(op: Operation, params: dict[str, str]) -> "BaseModel | None":
    if op.query is None:
        if params:
            name = next(iter(params))
            raise InvalidRequest(
                f"Unknown query parameter '{name}'.", param=name, code="parameter_unknown"
            )
        return None
    from pydantic import ValidationError

    try:
        return op.query.model_validate(dict(params))
    except ValidationError as error:
        raise _as_contract_error(error, body=False) from None


def param_path(loc: tuple) -> str:
    """('lines', 0, 'quantity') -> 'lines[0].quantity'"""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


_CODES = {"missing": "parameter_missing", "extra_forbidden": "parameter_unknown"}


def _as_contract_error(error: "ValidationError", body: bool) -> ShoppableError:
    first = error.errors(include_url=False)[0]
    kind, loc = first["type"], tuple(first["loc"])
    if kind == "json_invalid":
        return InvalidRequest(f"The body is not valid JSON: {first['msg']}.", code="invalid_json")
    if not loc and kind in ("model_type", "dict_type", "model_attributes_type"):
        return InvalidRequest("The body must be a JSON object.", code="invalid_json")
    message = first["msg"].removeprefix("Value error, ")
    param = param_path(loc) or None
    error_type = ValidationFailed if body else InvalidRequest
    return error_type(
        f"{param}: {message}" if param else message,
        code=_CODES.get(kind, "parameter_invalid"),
        param=param,
    )
