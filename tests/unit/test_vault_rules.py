"""The vault's pure rules: masking, the blind index, the purpose policy, input validation."""

import base64

import pytest
from pydantic import ValidationError

from chalicelib.domain.merchants import Scope
from chalicelib.errors import PermissionDenied
from chalicelib.vault.blind_index import (
    VaultNotConfigured,
    email_index,
    index_key_from,
    normalise_email,
)
from chalicelib.vault.masking import mask_email, mask_name, mask_phone
from chalicelib.vault.models import DETAILS_MODELS, CustomerCreate, ShippingAddress
from chalicelib.vault.policy import (
    PERSONAL_FIELDS,
    PURPOSE_FIELDS,
    PURPOSE_SCOPE,
    READ_SCOPES,
    Purpose,
    fields_for,
    require_purpose,
)

KEY = b"k" * 32


def customer(**overrides) -> CustomerCreate:
    body = {"email": "jane.doe@example.com", "name": "Jane Doe"}
    return CustomerCreate.model_validate({**body, **overrides})


# Masking


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("  Jane.Doe@Example.COM ", "j***@example.com"),
        ("j@x.io", "j***@x.io"),
    ],
)
def test_mask_email_keeps_first_letter_and_domain(email, masked):
    assert mask_email(email) == masked


def test_mask_name_and_phone_keep_almost_nothing():
    assert mask_name("Jane Doe") == "J***"
    assert mask_phone("+442079460958") == "***0958"
    assert mask_phone(None) is None
    assert mask_phone("+1234") == "***"


# Blind index


def test_email_index_is_normalised_keyed_and_per_merchant():
    same = email_index(KEY, "mer_a", "Jane.Doe@Example.com ")
    assert same == email_index(KEY, "mer_a", "jane.doe@example.com")
    assert same != email_index(KEY, "mer_b", "jane.doe@example.com"), "merchants must not match"
    assert same != email_index(b"x" * 32, "mer_a", "jane.doe@example.com"), "must be keyed"
    assert "jane" not in same and len(same) == 64


def test_email_index_is_not_a_bare_hash():
    import hashlib

    bare = {hashlib.sha256(v.encode()).hexdigest() for v in ("jane.doe@example.com",)}
    assert email_index(KEY, "mer_a", "jane.doe@example.com") not in bare


def test_normalise_email():
    assert normalise_email("  A.B@C.De ") == "a.b@c.de"


def test_index_key_needs_32_bytes_of_base64():
    assert index_key_from(base64.b64encode(b"z" * 32).decode()) == b"z" * 32
    for bad in (None, "", "not base64!!", base64.b64encode(b"short").decode()):
        with pytest.raises(VaultNotConfigured):
            index_key_from(bad)


# Purpose policy


def test_each_purpose_discloses_its_fields_only():
    assert PURPOSE_FIELDS[Purpose.FULFILLMENT] == ("name", "shipping_address", "phone")
    assert PURPOSE_FIELDS[Purpose.SUPPORT] == ("name", "email")
    assert PURPOSE_FIELDS[Purpose.MARKETING] == ("email",)
    assert PURPOSE_FIELDS[Purpose.PAYOUT] == ("name", "email", "payout")
    assert set(PURPOSE_SCOPE) == set(Purpose)
    expected = {
        Scope.CUSTOMERS_FULFILLMENT,
        Scope.CUSTOMERS_SUPPORT,
        Scope.CUSTOMERS_MARKETING,
        Scope.CUSTOMERS_PAYOUT,
    }
    assert expected == READ_SCOPES


@pytest.mark.parametrize("purpose", list(Purpose))
def test_details_models_hold_exactly_the_purpose_fields(purpose):
    personal = set(DETAILS_MODELS[purpose].model_fields) & set(PERSONAL_FIELDS)
    assert personal == set(PURPOSE_FIELDS[purpose])


def test_marketing_needs_recorded_consent():
    assert fields_for(Purpose.MARKETING, has_marketing_consent=True) == ("email",)
    with pytest.raises(PermissionDenied) as denied:
        fields_for(Purpose.MARKETING, has_marketing_consent=False)
    assert denied.value.code == "marketing_consent_missing"
    assert fields_for(Purpose.SUPPORT, has_marketing_consent=False) == ("name", "email")


def test_a_purpose_needs_its_own_scope():
    require_purpose({Scope.CUSTOMERS_SUPPORT}, Purpose.SUPPORT)
    with pytest.raises(PermissionDenied):
        require_purpose({Scope.CUSTOMERS_SUPPORT}, Purpose.FULFILLMENT)
    with pytest.raises(PermissionDenied):
        require_purpose(frozenset(), Purpose.MARKETING)


# Input


def test_customer_input_is_normalised():
    c = customer(
        email=" Jane.Doe@Example.com ",
        phone="+44 (20) 7946-0958",
        shipping_address={
            "line1": " 1 High St ",
            "city": "London",
            "postal_code": "N1 1AA",
            "country": "gb",
        },
        social_handles={"instagram": "@jane"},
    )
    assert c.email == "Jane.Doe@Example.com"
    assert c.phone == "+442079460958"
    assert c.shipping_address == ShippingAddress(
        line1="1 High St", city="London", postal_code="N1 1AA", country="GB"
    )
    assert c.marketing_consent is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "not-an-email"},
        {"email": "jane@localhost"},
        {"email": "a b@example.com"},
        {"name": ""},
        {"phone": "020 7946 0958"},
        {"phone": "+0123456789"},
        {"shipping_address": {"line1": "x", "city": "y", "postal_code": "z", "country": "GBR"}},
        {"shipping_address": {"line1": "x", "city": "y", "postal_code": "z", "country": "G1"}},
        {"social_handles": {"Instagram!": "jane"}},
        {"nickname": "JD"},
    ],
)
def test_bad_customer_input_is_rejected(overrides):
    with pytest.raises(ValidationError):
        customer(**overrides)


def test_validation_messages_never_repeat_the_value():
    secret_email, secret_phone = "no-at-sign.secret-person.example", "0000SECRET"
    with pytest.raises(ValidationError) as failed:
        customer(email=secret_email, phone=secret_phone)
    messages = " ".join(e["msg"] for e in failed.value.errors())
    assert secret_email not in messages
    assert secret_phone not in messages
