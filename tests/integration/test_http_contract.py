"""What every route shares: authentication, scopes, body rules and the error body."""

import json

from chalicelib.domain.merchants import Scope
from chalicelib.services.merchants import create_merchant
from tests.fixtures.app import product_body


def assert_error(response, status, type_, code=None, param=None):
    assert response.status_code == status, response.body
    error = response.json["error"]
    assert error["type"] == type_
    assert error["message"]
    if code:
        assert error["code"] == code
    if param:
        assert error["param"] == param


def test_merchant_routes_need_a_valid_key(api, merchant):
    assert_error(api.get("/v1/products"), 401, "authentication", "missing_api_key")
    assert_error(
        api.get("/v1/products", headers={"Authorization": "Basic abc"}), 401, "authentication"
    )
    assert_error(
        api.get("/v1/products", key="sk_test_" + "0" * 40), 401, "authentication", "invalid_api_key"
    )
    assert_error(api.get("/v1/products", key=merchant.secret + "x"), 401, "authentication")


def test_a_key_without_the_scope_is_refused(api, rt):
    reader = create_merchant(rt.merchants, "Reader", scopes={Scope.CATALOG_READ})
    assert api.get("/v1/products", key=reader.secret).status_code == 200
    response = api.post("/v1/products", product_body(), key=reader.secret)
    assert_error(response, 403, "permission", "missing_scope")
    assert "catalog:write" in response.json["error"]["message"]
    assert api.get("/v1/products", key=reader.secret).json["data"] == []


def test_keys_are_stored_only_as_hashes(rt, merchant):
    items = rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"]
    assert merchant.secret.startswith("sk_test_")
    assert merchant.secret not in json.dumps(items)


def test_malformed_bodies_get_clear_errors_and_store_nothing(api, merchant):
    k = merchant.secret
    assert_error(
        api.post("/v1/products", raw="{not json", key=k), 400, "invalid_request", "invalid_json"
    )
    assert_error(
        api.post("/v1/products", raw="[1, 2]", key=k), 400, "invalid_request", "invalid_json"
    )
    assert_error(api.post("/v1/products", raw="", key=k), 400, "invalid_request", "body_missing")
    assert_error(
        api.post(
            "/v1/products",
            raw="title=x",
            key=k,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
        "invalid_request",
        "unsupported_media_type",
    )
    assert_error(
        api.post("/v1/products", product_body(extra="x"), key=k),
        422,
        "invalid_request",
        "parameter_unknown",
        "extra",
    )
    assert_error(
        api.post("/v1/products", product_body(title=None), key=k),
        422,
        "invalid_request",
        param="title",
    )
    nested = "[" * 5000 + "]" * 5000
    assert api.post("/v1/products", raw=nested, key=k).status_code == 400
    assert api.get("/v1/products", key=k).json["data"] == []


def test_oversized_bodies_get_413(api, merchant):
    body = product_body(description="x" * 70_000)
    assert_error(
        api.post("/v1/products", body, key=merchant.secret),
        413,
        "invalid_request",
        "body_too_large",
    )
    assert api.get("/v1/products", key=merchant.secret).json["data"] == []


def test_unknown_query_parameters_are_rejected(api, merchant):
    assert_error(
        api.get("/v1/products?colour=red", key=merchant.secret),
        400,
        "invalid_request",
        param="colour",
    )
    assert_error(
        api.get("/v1/products?limit=abc", key=merchant.secret),
        400,
        "invalid_request",
        param="limit",
    )
    assert_error(
        api.get("/v1/products?limit=101", key=merchant.secret),
        400,
        "invalid_request",
        param="limit",
    )
    assert_error(api.get("/v1/health?x=1"), 400, "invalid_request", param="x")


def test_unexpected_failures_are_a_500_without_internals(api, rt, merchant, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(rt.product_store, "page", broken)
    response = api.get("/v1/products", key=merchant.secret)
    assert_error(response, 500, "api_error", "internal_error")
    assert "secret internal detail" not in response.body.decode()
    assert "Traceback" not in response.body.decode()


def test_every_response_carries_a_request_id(api):
    response = api.get("/v1/health")
    assert len(response.headers["Request-Id"]) >= 16


def test_health_reports_versions_and_the_table(api, rt):
    response = api.get("/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["dependencies"] == {"dynamodb": "ok"}
    assert response.json["versions"] == {"shoppable": "0.1.0"}, "no SDK versions to the public"
    rt.dynamodb.delete_table(TableName=rt.settings.main_table)
    assert api.get("/v1/health").json["status"] == "degraded"


def test_every_error_body_has_all_four_fields_param_null_when_no_field_is_at_fault(api, merchant):
    refusals = [
        api.get("/v1/products"),  # 401
        api.get("/v1/products/prod_missing", key=merchant.secret),  # 404
        api.post("/v1/products", raw="{not json", key=merchant.secret),  # 400
    ]
    for refused in refusals:
        assert set(refused.json["error"]) == {"type", "code", "message", "param"}, refused.json
    assert refusals[0].json["error"]["param"] is None


def test_an_unknown_method_on_a_known_path_is_405_with_allow(api, merchant):
    for method, path, allowed in [
        ("PATCH", "/v1/orders", "GET"),
        ("DELETE", "/v1/products", "GET, POST"),
        ("PUT", "/v1/checkouts", "OPTIONS, POST"),
    ]:
        refused = api.request(method, path, key=merchant.secret, body={"status": "paid"})
        assert refused.status_code == 405, (method, path)
        assert refused.headers["Allow"] == allowed
        assert refused.json == {
            "error": {
                "type": "invalid_request",
                "code": "method_not_allowed",
                "message": f"{method} is not allowed here; this path answers {allowed}.",
                "param": None,
            }
        }
    assert api.get("/v1/orders", key=merchant.secret).json["data"] == []
