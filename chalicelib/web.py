"""The HTTP edge: one declaration per route, and everything every route does the same way.

Each area declares its routes on a `Routes` (a Chalice Blueprint that also records each
operation for the OpenAPI document). A request then goes through a short chain of steps:

    authenticate  the key, and its scope            (401, 403)
    parse         body and query into the models    (400, 413, 415, 422)
    run once      under `Idempotency-Key`           (409 on reuse; a replay answers from
                                                     what the route chose to keep)
    respond       JSON, or the error body; CORS on public routes; one log line

Any error becomes the contract's JSON error body (DESIGN.md §3); the adapters have already
translated what their vendors raise into our errors.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Chalice, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from .adapters.dynamodb.idempotency import IdempotentRequest
from .domain.merchants import ApiKey
from .domain.scopes import Scope
from .errors import (
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    ShoppableError,
    UnsupportedMediaType,
    ValidationFailed,
)
from .observability import logger
from .runtime import Runtime, runtime
from .services.merchants import authenticate, require

# Chalice answers 415 itself for types not listed; we list the usual ones and answer in our
# own error format instead.
_ACCEPTED_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]

_INTERNAL_ERROR = {
    "error": {
        "type": "api_error",
        "code": "internal_error",
        "message": "An internal error occurred; it has been logged.",
        "param": None,
    }
}


@dataclass
class Call:
    """What a route's handler gets: the runtime, the caller's key, and the parsed request."""

    rt: Runtime
    key: ApiKey | None
    body: Any
    query: Any
    headers: dict[str, str]
    raw_body: bytes = b""
    source_ip: str | None = None  # the client's address as API Gateway saw it

    @property
    def merchant_id(self) -> str:
        assert self.key is not None, "only authenticated routes have a merchant"
        return self.key.merchant_id

    def page_size(self) -> int:
        return getattr(self.query, "limit", None) or self.rt.settings.page_size


@dataclass(frozen=True)
class Replay:
    """What an idempotent route keeps of its answer for 24 hours, and how it answers a replay.

    The stored answer must hold no secret (a Stripe client_secret, an API key) and no
    personal value (masked ones included: they must go when the person is erased); `answer`
    rebuilds the replayed body from what was kept and the current state."""

    keep: Callable[[dict[str, Any]], dict[str, Any]]
    answer: Callable[["Call", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """A route's declaration, as the pipeline and the OpenAPI document read it."""

    path: str
    method: str
    handler: Callable[..., Any]
    summary: str
    scope: Scope | frozenset[Scope] | None = None  # a set: any one of them
    public: bool = False
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    returns: Any = None  # a model, ListOf[model], or None
    status: int = 200
    idempotent: bool = False
    produces: str | None = None  # a handler answering other than JSON: its media type
    replay: Replay | None = None
    # Public routes: who shares an Idempotency-Key space (the merchant's is the key's).
    idempotency_scope: Callable[["Call"], str] | None = None


@dataclass
class Routes:
    """One area's routes: a Chalice Blueprint, and the operations declared on it."""

    import_name: str
    operations: list[Operation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.blueprint = Blueprint(self.import_name)

    def route(
        self,
        path: str,
        method: str,
        *,
        summary: str,
        scope: Scope | frozenset[Scope] | None = None,
        public: bool = False,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        returns: Any = None,
        status: int = 200,
        idempotent: bool = False,
        produces: str | None = None,
        replay: Replay | None = None,
        idempotency_scope: Callable[["Call"], str] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        assert public or scope is not None, f"{method} {path}: give a scope or mark it public"
        assert not (public and idempotent and idempotency_scope is None), (
            f"{method} {path}: a public idempotent route needs an idempotency_scope, or anyone "
            "could claim its keys"
        )

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(
                path=path,
                method=method,
                handler=handler,
                summary=summary,
                scope=scope,
                public=public,
                body=body,
                query=query,
                returns=returns,
                status=status,
                idempotent=idempotent,
                produces=produces,
                replay=replay,
                idempotency_scope=idempotency_scope,
            )
            self.operations.append(op)
            blueprint = self.blueprint

            def view(**params: str) -> Response:
                context = getattr(blueprint, "lambda_context", None)
                return serve(op, blueprint.current_request, params, context)

            view.__name__ = handler.__name__
            view.operation = op  # type: ignore[attr-defined]  # for the OpenAPI document
            blueprint.route(path, methods=[method], content_types=_ACCEPTED_TYPES)(view)
            return handler

        return register

    def preflight(self, *paths: str) -> None:
        """Answer browsers' CORS preflight (OPTIONS) on public storefront paths."""
        blueprint = self.blueprint
        for path in paths:

            def view(**params: str) -> Response:
                origin = blueprint.current_request.headers.get("origin")
                headers = _cors_headers(origin, runtime())
                if headers:
                    headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                    headers["Access-Control-Allow-Headers"] = (
                        "Content-Type, Idempotency-Key, X-Device-Id"
                    )
                    headers["Access-Control-Max-Age"] = "600"
                return Response(body="", status_code=204, headers=dict(headers))

            view.__name__ = "preflight_" + path.strip("/").replace("/", "_").strip("{}")
            blueprint.route(path, methods=["OPTIONS"], content_types=_ACCEPTED_TYPES)(view)


def refuse_unknown_methods(app: Chalice) -> None:
    """A known path asked with a method it does not answer gets the contract's 405 body and
    `Allow`, instead of chalice's own error body. (The deployed API sends such requests to the
    function through an ANY method on each path; infra/build.py.)"""

    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        path = (request.context or {}).get("resourcePath")
        answered = app.routes.get(path or "", {})
        if answered and request.method not in answered:
            allowed = ", ".join(sorted(answered))
            error = MethodNotAllowed(
                f"{request.method} is not allowed here; this path answers {allowed}."
            )
            headers: dict[str, str | list[str]] = {
                "Content-Type": "application/json",
                "Allow": allowed,
            }
            return Response(json.dumps(error.to_body()), headers=headers, status_code=405)
        return get_response(request)

    app.register_middleware(middleware, "http")


def operations(app: Chalice) -> list[Operation]:
    """Every operation the app serves, in the order its routes were registered."""
    return [
        entry.view_function.operation
        for methods in app.routes.values()
        for entry in methods.values()
        if hasattr(entry.view_function, "operation")
    ]


def serve(op: Operation, request: Request, params: dict[str, str], lambda_context: Any) -> Response:
    started = time.perf_counter()
    rt = runtime()
    request_id = (request.context or {}).get("requestId") or uuid.uuid4().hex
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(request_id=request_id)
    try:
        key = authenticated(op, request, rt)
        call = parsed(op, request, key, rt)
        status, body = run_once(op, request, call, params, lambda_context)
    except ShoppableError as error:
        status, body = error.status, error.to_body()
    except Exception:
        logger.exception("unhandled error", extra={"route": f"{op.method} {op.path}"})
        status, body = 500, _INTERNAL_ERROR
    response = respond(op, request, rt, request_id, status, body)
    logger.info(
        "request",
        extra={
            "route": f"{op.method} {op.path}",
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


def authenticated(op: Operation, request: Request, rt: Runtime) -> ApiKey | None:
    """The caller's key, if the route needs one, with the route's scope."""
    if op.scope is None:
        return None
    key = authenticate(rt.merchants, request.headers.get("authorization"))
    logger.thread_safe_append_keys(merchant_id=key.merchant_id)
    require(key, op.scope)
    return key


def parsed(op: Operation, request: Request, key: ApiKey | None, rt: Runtime) -> Call:
    return Call(
        rt=rt,
        key=key,
        body=_parse_body(op, request, rt.settings.max_body_bytes),
        query=_parse_query(op, dict(request.query_params or {})),
        headers=dict(request.headers),
        raw_body=_raw_body(request),
        source_ip=((request.context or {}).get("identity") or {}).get("sourceIp"),
    )


def run_once(
    op: Operation, request: Request, call: Call, params: dict[str, str], lambda_context: Any
) -> tuple[int, Any]:
    """Run the handler; under `Idempotency-Key` on idempotent routes, at most once."""
    idempotency_key = request.headers.get("idempotency-key")
    if not op.idempotent or idempotency_key is None:
        return _outcome(_run(op, call, params))
    if call.key is not None:
        scope = call.key.merchant_id
    else:
        assert op.idempotency_scope is not None
        scope = op.idempotency_scope(call)
    fingerprint = call.rt.digests.of(f"{op.method} {request.path}", _raw_body(request))
    ran: dict[str, Any] = {}

    def run() -> dict[str, Any]:
        ran.update(_run(op, call, params))
        if op.replay is None:
            return ran
        return {"status": ran["status"], "body": op.replay.keep(ran["body"])}

    outcome = call.rt.idempotency.replay_or_run(
        IdempotentRequest(scope, idempotency_key, fingerprint), run, lambda_context
    )
    if ran:  # this request ran it: its own answer, whole
        return _outcome(ran)
    if op.replay is not None:
        outcome = {"status": outcome["status"], "body": op.replay.answer(call, outcome["body"])}
    return _outcome(outcome)


# A 429 or 503 is worth retrying (the same request, under the same Idempotency-Key): when, in
# whole seconds, as RFC 9110's Retry-After says.
RETRY_LATER = frozenset({429, 503})
RETRY_AFTER_SECONDS = 1


def respond(
    op: Operation, request: Request, rt: Runtime, request_id: str, status: int, body: Any
) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": "application/json",
        "Request-Id": request_id,
    }
    if op.public:
        headers.update(_cors_headers(request.headers.get("origin"), rt))
    if status in RETRY_LATER:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if isinstance(body, Response):  # a handler that answers other than JSON (handshakes)
        body.headers = {**headers, **(body.headers or {})}
        return body
    return Response(body=json.dumps(body), status_code=status, headers=headers)


def _run(op: Operation, call: Call, params: dict[str, str]) -> dict[str, Any]:
    """The handler's answer in a form the idempotency record can keep and replay."""
    result = op.handler(call, **params)
    if isinstance(result, Response):
        return {"status": result.status_code, "body": result}
    body = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    return {"status": op.status, "body": body}


def _outcome(outcome: dict[str, Any]) -> tuple[int, Any]:
    return outcome["status"], outcome["body"]


def _cors_headers(origin: str | None, rt: Runtime) -> dict[str, str | list[str]]:
    allowed = rt.settings.cors_allowed_origins
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    if origin and origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


def _raw_body(request: Request) -> bytes:
    raw = request.raw_body or b""
    return raw.encode() if isinstance(raw, str) else raw


def _parse_body(op: Operation, request: Request, max_bytes: int) -> BaseModel | None:
    raw = _raw_body(request)
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
    try:
        return op.body.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise _as_contract_error(error, body=True) from None


def _media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _parse_query(op: Operation, params: dict[str, str]) -> BaseModel | None:
    if op.query is None:
        if params:
            name = next(iter(params))
            raise InvalidRequest(
                f"Unknown query parameter '{name}'.", param=name, code="parameter_unknown"
            )
        return None
    try:
        return op.query.model_validate(dict(params))
    except ValidationError as error:
        raise _as_contract_error(error, body=False) from None


def param_path(loc: tuple[Any, ...]) -> str:
    """('lines', 0, 'quantity') -> 'lines[0].quantity'"""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


_CODES = {"missing": "parameter_missing", "extra_forbidden": "parameter_unknown"}


def _as_contract_error(error: ValidationError, body: bool) -> ShoppableError:
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
