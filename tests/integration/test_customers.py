"""The customer routes: tokenize, purpose-bound reads, scopes, audit, export and erasure."""

from chalicelib.domain.merchants import Scope
from chalicelib.vault.models import Caller

from .vault_helpers import JANE, JOHN, add_key, read, tokenize


def erase(api, key, token):
    return api.request("DELETE", f"/v1/customers/{token}", key=key)


# Tokenize


def test_tokenize_returns_a_token_and_masked_values_only(api, merchant):
    response = api.post("/v1/customers", JANE, key=merchant.secret)
    assert response.status_code == 201
    body = response.json
    assert body["object"] == "customer" and body["created"] is True
    assert body["token"].startswith("cus_") and len(body["token"]) >= 20
    assert body["masked"] == {"email": "j***@example.com", "name": "J***", "phone": "***0958"}
    assert "Jane" not in response.body.decode() and "Baker" not in response.body.decode()


def test_returning_customer_gets_the_same_token_and_the_latest_data(api, merchant, jane):
    moved = {
        **JANE,
        "email": "  JANE.DOE@example.com ",
        "shipping_address": {
            "line1": "1 New Road",
            "city": "Leeds",
            "postal_code": "LS1 1AA",
            "country": "GB",
        },
    }
    moved.pop("phone")
    again = tokenize(api, merchant.secret, moved)
    assert again["token"] == jane["token"]
    assert again["created"] is False
    assert again["masked"]["phone"] == "***0958", "a phone not given again is kept"
    shown = read(api, merchant.secret, jane["token"], "fulfillment").json
    assert shown["shipping_address"]["line1"] == "1 New Road"
    assert shown["phone"] == "+442079460958"


def test_the_same_person_at_another_merchant_is_someone_else(api, merchant, other_merchant):
    at_a = tokenize(api, merchant.secret, JANE)
    at_b = tokenize(api, other_merchant.secret, JANE)
    assert at_b["created"] is True
    assert at_a["token"] != at_b["token"]


def test_tokenize_needs_customers_write(api, rt, merchant):
    reader = add_key(rt, merchant.merchant.id, Scope.CUSTOMERS_SUPPORT)
    response = api.post("/v1/customers", JANE, key=reader)
    assert response.status_code == 403
    assert response.json["error"]["type"] == "permission"


def test_invalid_input_is_rejected_without_echoing_it(api, merchant):
    for bad, param in [
        ({**JANE, "email": "jane.doe-at-example.com"}, "email"),
        ({**JANE, "phone": "07946 SECRET"}, "phone"),
        ({**JANE, "shipping_address": {**JANE["shipping_address"], "country": "GBR"}}, None),
        ({**JANE, "date_of_birth": "1990-01-01"}, "date_of_birth"),
    ]:
        response = api.post("/v1/customers", bad, key=merchant.secret)
        assert response.status_code == 422, response.body
        if param:
            assert response.json["error"]["param"] == param
        text = response.body.decode()
        assert "jane.doe-at" not in text and "SECRET" not in text and "GBR" not in text


def test_idempotency_key_replays_the_first_response(api, merchant):
    headers = {"Idempotency-Key": "import-42"}
    first = api.post("/v1/customers", JANE, key=merchant.secret, headers=headers)
    again = api.post("/v1/customers", JANE, key=merchant.secret, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    other = api.post("/v1/customers", JOHN, key=merchant.secret, headers=headers)
    assert other.status_code == 409
    assert other.json["error"]["code"] == "idempotency_key_reused"


# Purpose-bound reads


def test_each_purpose_returns_only_its_fields(api, merchant, jane, john):
    token = jane["token"]
    fulfillment = read(api, merchant.secret, token, "fulfillment").json
    assert set(fulfillment) == {
        "object",
        "token",
        "purpose",
        "order_id",
        "name",
        "phone",
        "shipping_address",
    }
    assert fulfillment["order_id"] is None, "the profile, not an order's details"
    assert fulfillment["name"] == "Jane Doe"
    assert fulfillment["shipping_address"]["line1"] == "221B Baker Street"

    support = read(api, merchant.secret, token, "support").json
    assert set(support) == {"object", "token", "purpose", "order_id", "name", "email"}
    assert support["email"] == "Jane.Doe@Example.com"

    marketing = read(api, merchant.secret, john["token"], "marketing").json
    assert set(marketing) == {"object", "token", "purpose", "email", "consent"}
    assert marketing["consent"]["source"] == "merchant"
    assert marketing["email"] == "john.roe@example.org"


def test_marketing_needs_recorded_consent(api, merchant, jane):
    response = read(api, merchant.secret, jane["token"], "marketing")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "marketing_consent_missing"
    tokenize(api, merchant.secret, {**JANE, "marketing_consent": True})
    assert read(api, merchant.secret, jane["token"], "marketing").status_code == 200
    tokenize(api, merchant.secret, JANE)  # consent not repeated: it stays recorded
    assert read(api, merchant.secret, jane["token"], "marketing").status_code == 200


def test_purpose_is_required_and_must_be_known(api, merchant, jane):
    missing = api.get(f"/v1/customers/{jane['token']}", key=merchant.secret)
    assert missing.status_code == 400
    assert missing.json["error"]["param"] == "purpose"
    unknown = read(api, merchant.secret, jane["token"], "curiosity")
    assert unknown.status_code == 400


def test_a_key_reads_only_for_the_purposes_its_scopes_allow(api, rt, merchant, jane):
    warehouse = add_key(rt, merchant.merchant.id, Scope.CUSTOMERS_FULFILLMENT)
    assert read(api, warehouse, jane["token"], "fulfillment").status_code == 200
    for purpose in ("support", "marketing"):
        denied = read(api, warehouse, jane["token"], purpose)
        assert denied.status_code == 403, purpose
        assert denied.json["error"]["type"] == "permission"
    catalog_only = add_key(rt, merchant.merchant.id, Scope.CATALOG_READ)
    assert read(api, catalog_only, jane["token"], "fulfillment").status_code == 403


def test_another_merchants_key_sees_nothing(api, merchant, other_merchant, jane):
    token = jane["token"]
    key = other_merchant.secret
    responses = [
        read(api, key, token, "support"),
        api.get(f"/v1/customers/{token}/export", key=key),
        api.get(f"/v1/customers/{token}/audit", key=key),
        erase(api, key, token),
    ]
    for response in responses:
        assert response.status_code == 404, response.body
        assert response.json["error"]["type"] == "not_found"
    assert read(api, merchant.secret, token, "support").status_code == 200


def test_unknown_and_malformed_tokens_are_not_found(api, merchant):
    for token in ("cus_doesnotexist000000000", "ord_123", "cus_not-a-token"):
        assert read(api, merchant.secret, token, "support").status_code == 404


# Audit


def test_every_access_is_audited_with_field_names_only(api, rt, merchant, jane):
    support_key = add_key(rt, merchant.merchant.id, Scope.CUSTOMERS_SUPPORT)
    read(api, merchant.secret, jane["token"], "fulfillment")
    read(api, support_key, jane["token"], "support")
    response = api.get(f"/v1/customers/{jane['token']}/audit", key=merchant.secret)
    assert response.status_code == 200
    entries = response.json["data"]
    assert [(e["action"], e["purpose"]) for e in entries] == [
        ("detokenize", "support"),
        ("detokenize", "fulfillment"),
        ("tokenize", None),
    ]
    assert entries[0]["fields"] == ["name", "email"]
    assert entries[1]["fields"] == ["name", "shipping_address", "phone"]
    assert entries[0]["actor"] != entries[1]["actor"] == merchant.api_key.id
    assert "Jane" not in response.body.decode()


def test_audit_pages_and_needs_its_scope(api, rt, merchant, jane):
    for _ in range(3):
        read(api, merchant.secret, jane["token"], "support")
    path = f"/v1/customers/{jane['token']}/audit"
    first = api.get(f"{path}?limit=2", key=merchant.secret).json
    assert first["has_more"] is True and len(first["data"]) == 2
    rest = api.get(f"{path}?limit=2&cursor={first['next_cursor']}", key=merchant.secret).json
    assert len(rest["data"]) == 2 and rest["has_more"] is False
    assert api.get(f"{path}?cursor=bm9wZQ", key=merchant.secret).status_code == 400
    no_scope = add_key(rt, merchant.merchant.id, Scope.CUSTOMERS_SUPPORT)
    assert api.get(path, key=no_scope).status_code == 403


# Export


def test_export_returns_everything_held_and_every_access(api, rt, merchant, john):
    response = api.get(f"/v1/customers/{john['token']}/export", key=merchant.secret)
    assert response.status_code == 200
    export = response.json
    assert export["object"] == "customer_export"
    assert export["email"] == "john.roe@example.org"
    assert export["name"] == "John Roe"
    assert export["phone"] == "+14155550123"
    assert export["shipping_address"]["line2"] == "Floor 7"
    assert export["social_handles"] is None
    assert export["marketing_consent"]["given"] is True
    assert export["marketing_consent"]["given_at"] is not None
    assert [e["action"] for e in export["access_log"]] == ["export", "tokenize"]
    no_scope = add_key(rt, merchant.merchant.id, Scope.CUSTOMERS_SUPPORT)
    assert api.get(f"/v1/customers/{john['token']}/export", key=no_scope).status_code == 403


# Erasure


def test_after_erasure_every_read_is_gone(api, rt, merchant, jane):
    token = jane["token"]
    erased = erase(api, merchant.secret, token)
    assert erased.status_code == 200
    assert erased.json["erased"] is True and erased.json["token"] == token
    for response in [
        read(api, merchant.secret, token, "fulfillment"),
        read(api, merchant.secret, token, "support"),
        api.get(f"/v1/customers/{token}/export", key=merchant.secret),
        erase(api, merchant.secret, token),
    ]:
        assert response.status_code == 410, response.body
        assert response.json["error"]["type"] == "gone"
    trail = api.get(f"/v1/customers/{token}/audit", key=merchant.secret).json["data"]
    assert trail[0]["action"] == "erase" and trail[0]["actor"] == merchant.api_key.id


def test_erasure_needs_its_scope(api, rt, merchant, jane):
    reader = add_key(rt, merchant.merchant.id, *Scope)
    no_erase = add_key(
        rt, merchant.merchant.id, *(s for s in Scope if s is not Scope.CUSTOMERS_ERASE)
    )
    assert erase(api, no_erase, jane["token"]).status_code == 403
    assert erase(api, reader, jane["token"]).status_code == 200


def test_a_person_who_returns_after_erasure_gets_a_new_token(api, merchant, jane):
    erase(api, merchant.secret, jane["token"])
    again = tokenize(api, merchant.secret, JANE)
    assert again["created"] is True and again["token"] != jane["token"]


def test_orders_can_show_a_token_as_erased(api, rt, merchant, jane, john):
    erase(api, merchant.secret, jane["token"])
    caller = Caller.service(merchant.merchant.id, "orders", frozenset())
    statuses = rt.vault.describe(caller, [jane["token"], john["token"], "cus_unknown"])
    assert (statuses[0].status, statuses[0].masked) == ("erased", None)
    assert statuses[1].status == "active" and statuses[1].masked.email == "j***@example.org"
    assert statuses[2].status == "unknown"
    others = Caller.service("mer_someoneelse", "orders", frozenset())
    assert {s.status for s in rt.vault.describe(others, [john["token"]])} == {"unknown"}


def test_an_erasure_is_announced_in_the_same_transaction(api, rt, merchant):
    """`customer.erased` goes into the main table's outbox within the vault's erasure
    transaction: the merchant's systems hear of it, with the token and nothing else."""
    from .outbound_helpers import Outbox

    outbox = Outbox(api, rt)
    created = api.post(
        "/v1/customers", {"email": "gone@example.com", "name": "Gone Soon"}, key=merchant.secret
    ).json
    assert api.delete(f"/v1/customers/{created['token']}", key=merchant.secret).status_code == 200
    api.delete(f"/v1/customers/{created['token']}", key=merchant.secret)  # again: 410, no event
    outbox.drain()
    (erased,) = api.get("/v1/events?type=customer.erased", key=merchant.secret).json["data"]
    assert erased["data"] == {"object": "customer", "customer_token": created["token"]}
    assert "gone@" not in str(erased)
