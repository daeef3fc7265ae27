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


def test_the_document_is_valid_openapi(api):
    """Every reference resolves (query parameters' enums included), and the document is what
    OpenAPI 3.1 allows: the storefront client and the collection are generated from it."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    document = api.get("/v1/openapi.json").json
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    orders = document["paths"]["/v1/orders"]["get"]["parameters"]
    status = next(p for p in orders if p["name"] == "status")
    assert status["schema"]["anyOf"][0] == {"$ref": "#/components/schemas/OrderStatus"}
