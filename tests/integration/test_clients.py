"""The clients generated from the OpenAPI document (devstack/clients.py): up to date with the
routes, refused when the document is not fit, and the storefront client's types checked by
TypeScript itself. (tests/e2e/test_clients.py runs them against the stack.)"""

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest

from devstack import clients

ROOT = Path(__file__).resolve().parents[2]
TSC = ROOT / "clients" / "node_modules" / ".bin" / "tsc"


@pytest.fixture(scope="module")
def document():
    return clients.openapi_document()


def test_the_committed_clients_are_what_the_document_gives(document):
    for path, text in clients.generate(copy.deepcopy(document)).items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run `make clients`"


def test_the_storefront_client_has_the_public_routes_a_shop_calls(document):
    script = clients.storefront_client_js(document)

    methods = set(re.findall(r"^  (\w+)\(.*\) \{$", script, re.M)) - {"constructor"}
    assert methods == {"getStorefrontPost", "createCheckout", "getCheckoutStatus", "sendBeacon"}
    assert "credentials: 'omit'" in script  # never a shopper's cookies


def test_the_collection_has_every_route_but_webhooks_and_pages(document):
    collection = clients.collection(document)

    requests = [item["request"] for folder in collection["item"] for item in folder["item"]]
    collected = {(r["method"], "/" + "/".join(r["url"]["path"])) for r in requests}
    expected = {
        (method.upper(), re.sub(r"{(\w+)}", r":\1", path))
        for path, method, _ in clients.operations_of(document)
        if not clients.NOT_COLLECTED.search(path)
    }
    assert collected == expected
    assert len(requests) == len(collected)
    public = {"/v1/health", "/v1/checkouts", "/v1/storefront/posts/:post_id",
              "/v1/checkouts/:order_id", "/v1/storefront/beacon"}  # fmt: skip
    for request in requests:
        path = "/" + "/".join(request["url"]["path"])
        assert (request.get("auth") == {"type": "noauth"}) == (path in public), path
    assert collection["auth"]["bearer"][0]["value"] == "{{apiKey}}"
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")


def test_an_invalid_document_or_a_private_storefront_route_is_refused(document):
    dangling = copy.deepcopy(document)
    dangling["paths"]["/v1/orders"]["get"]["parameters"][0]["schema"] = {"$ref": "#/$defs/Gone"}
    with pytest.raises(clients.InvalidDocument, match="not valid"):
        clients.generate(dangling)

    private = copy.deepcopy(document)
    private["paths"]["/v1/checkouts"]["post"]["security"] = [{"apiKey": []}]
    with pytest.raises(clients.InvalidDocument, match="create_checkout is not public"):
        clients.storefront_client_js(private)


def test_an_example_body_that_its_schema_refuses_is_refused(document):
    schema = {"$ref": "#/components/schemas/Money"}
    with pytest.raises(clients.InvalidDocument, match="example body is invalid"):
        clients.check_example(document, schema, {"amount": -1, "currency": "EUR"}, "POST /x")


def test_typescript_accepts_a_storefront_and_refuses_its_mistakes():
    """clients/typecheck/storefront.ts uses the types as a shop would; every line marked
    @ts-expect-error must be an error, or tsc fails."""
    assert TSC.exists(), "tsc is not installed in clients/node_modules: run `make test` once"

    checked = subprocess.run(
        [str(TSC), "-p", "clients/typecheck/tsconfig.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads((ROOT / "clients" / "package.json").read_text())["devDependencies"]
