import re


def test_every_route_is_in_the_openapi_document(api):
    import app

    document = api.get("/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    served = {
        (path, method)
        for path, methods in app.app.routes.items()
        for method in methods
        if method != "OPTIONS"
    }
    assert served
    assert served == documented


def test_request_schemas_are_the_validating_models(api):
    document = api.get("/v1/openapi.json").json
    create = document["paths"]["/v1/products"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"title", "variants"}
    money = document["components"]["schemas"]["Money"]
    assert money["properties"]["amount"]["type"] == "integer"
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert create["security"] == [{"apiKey": []}]
    storefront = document["paths"]["/v1/storefront/posts/{post_id}"]["get"]
    assert storefront["security"] == []


def test_every_reference_resolves(api):
    document = api.get("/v1/openapi.json").json
    text = str(document)
    for name in re.findall(r"#/components/schemas/([\w\-\[\]]+)", text):
        assert name in document["components"]["schemas"], name


def test_query_parameters_refer_to_their_shared_schemas(api):
    """Every reference resolves (query parameters' enums included), and the document is what
    OpenAPI 3.1 allows: the storefront client and the collection are generated from it."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    document = api.get("/v1/openapi.json").json
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    orders = document["paths"]["/v1/orders"]["get"]["parameters"]
    status = next(p for p in orders if p["name"] == "status")
    assert status["schema"]["anyOf"][0] == {"$ref": "#/components/schemas/OrderStatus"}


def test_the_document_is_valid_openapi_3_1(api):
    from openapi_spec_validator import validate

    document = api.get("/v1/openapi.json", headers={"Host": "api.example.com"}).json
    validate(document)  # raises on any error, dangling references included
    assert "$defs" not in str(document)
    assert document["servers"][0]["url"].endswith("api.example.com")


def test_every_error_body_and_required_query_parameter_is_documented(api):
    document = api.get("/v1/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {c: r for c, r in operation["responses"].items() if c[0] in "45"}
            assert {"400", "500"} <= set(errors), (method, path)
            for response in errors.values():
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
            if operation["security"]:
                assert {"401", "403"} <= set(errors), (method, path)
    audit = document["paths"]["/v1/customers/{token}"]["get"]["parameters"]
    purpose = next(p for p in audit if p["name"] == "purpose")
    assert purpose["required"] is True
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_every_event_type_is_in_the_webhooks_section(api):
    from chalicelib.domain.outbound import EventType

    document = api.get("/v1/openapi.json").json
    assert set(document["webhooks"]) == {t.value for t in EventType}
    paid = document["webhooks"]["order.paid"]["post"]
    headers = {p["name"] for p in paid["parameters"]}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
