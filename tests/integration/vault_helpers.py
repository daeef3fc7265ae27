"""The customer-vault tests' helpers: seeded people, scoped keys, raw table access."""

from chalicelib.domain.merchants import Scope
from chalicelib.services.merchants import issue_key

JANE = {
    "email": "Jane.Doe@Example.com",
    "name": "Jane Doe",
    "phone": "+44 20 7946 0958",
    "shipping_address": {
        "line1": "221B Baker Street",
        "city": "London",
        "postal_code": "NW1 6XE",
        "country": "GB",
    },
    "social_handles": {"instagram": "janedoe_sherlocked"},
}
JOHN = {
    "email": "john.roe@example.org",
    "name": "John Roe",
    "phone": "+1 415 555 0123",
    "shipping_address": {
        "line1": "500 Mission Street",
        "line2": "Floor 7",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105-1804",
        "country": "US",
    },
    "marketing_consent": True,
}

# Every personal value seeded above, as it might appear anywhere.
SEEDED_VALUES = [
    "Jane.Doe@Example.com",
    "jane.doe@example.com",
    "Jane Doe",
    "+442079460958",
    "7946 0958",
    "221B Baker Street",
    "NW1 6XE",
    "janedoe_sherlocked",
    "john.roe@example.org",
    "John Roe",
    "+14155550123",
    "555 0123",
    "500 Mission Street",
    "94105-1804",
]


def add_key(rt, merchant_id: str, *scopes: Scope) -> str:
    """Another key of `merchant_id` carrying only `scopes`; returns its secret."""
    return issue_key(rt.merchants, merchant_id, scopes).secret


def tokenize(api, key: str, person: dict) -> dict:
    response = api.post("/v1/customers", person, key=key)
    assert response.status_code == 201, response.body
    return response.json


def read(api, key: str, token: str, purpose: str):
    return api.get(f"/v1/customers/{token}?purpose={purpose}", key=key)


def raw_customer(rt, token: str) -> dict:
    """The customer's item exactly as DynamoDB holds it (what a backup would hold)."""
    return rt.dynamodb.get_item(
        TableName=rt.settings.vault_table,
        Key={"pk": {"S": f"CUS#{token}"}, "sk": {"S": "CUSTOMER"}},
    ).get("Item")


def put_raw_customer(rt, item: dict) -> None:
    rt.dynamodb.put_item(TableName=rt.settings.vault_table, Item=item)
