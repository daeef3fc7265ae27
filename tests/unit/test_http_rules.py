import pytest

from chalicelib.adapters.dynamodb.table import _decode_cursor, _encode_cursor
from chalicelib.domain.merchants import hash_secret, hint_for, looks_like_key
from chalicelib.errors import InvalidRequest
from chalicelib.web import param_path


def test_param_paths_read_like_the_request_body():
    assert param_path(("lines", 0, "quantity")) == "lines[0].quantity"
    assert param_path(("title",)) == "title"
    assert param_path(()) == ""


def test_cursors_round_trip_and_stay_in_their_listing():
    key = {"pk": "PROD#p", "sk": "PRODUCT", "gsi1pk": "MER#m#PRODUCTS", "gsi1sk": "2026#p"}
    assert _decode_cursor(_encode_cursor(key), "MER#m#PRODUCTS") == key
    with pytest.raises(InvalidRequest):
        _decode_cursor(_encode_cursor(key), "MER#other#PRODUCTS")
    with pytest.raises(InvalidRequest):
        _decode_cursor("not-base64!", "MER#m#PRODUCTS")


def test_keys_are_hashed_and_shown_only_by_hint():
    secret = "sk_test_" + "a" * 40
    assert hash_secret(secret) != secret and len(hash_secret(secret)) == 64
    assert hint_for(secret) == "sk_test_…aaaa"
    assert looks_like_key(secret)
    assert not looks_like_key("pk_test_" + "a" * 40)
