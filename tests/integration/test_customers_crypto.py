"""What the vault's cryptography must guarantee, tested on the stored items themselves.

Each test changes or copies items the way an attacker, a bug or a backup restore would, and
checks that the vault refuses rather than returning wrong data.
"""

import pytest

from chalicelib.domain.merchants import Scope
from chalicelib.vault.keyring import key_context
from chalicelib.vault.models import Caller, CustomerCreate
from chalicelib.vault.sealing import SealBroken, open_sealed

from .vault_helpers import JANE, put_raw_customer, raw_customer, read, tokenize


def integrity_failure(response) -> bool:
    return (
        response.status_code == 500
        and response.json["error"]["code"] == "vault_integrity_failed"
        and "email" not in response.json
        and "name" not in response.json
    )


def test_items_hold_ciphertext_and_no_key_material(rt, jane):
    item = raw_customer(rt, jane["token"])
    flat = repr(item)
    for value in ("Jane", "jane", "Baker", "7946", "NW1", "sherlocked"):
        assert value not in flat
    assert set(item) >= {"sealed_email", "sealed_name", "sealed_phone", "sealed_shipping_address"}
    assert "wrapped_key" not in item, "the data key must live in the keys table only"


def test_tampered_ciphertext_is_rejected(api, rt, merchant, jane):
    item = raw_customer(rt, jane["token"])
    sealed = bytearray(item["sealed_email"]["B"])
    sealed[-5] ^= 0x40
    item["sealed_email"] = {"B": bytes(sealed)}
    put_raw_customer(rt, item)
    assert integrity_failure(read(api, merchant.secret, jane["token"], "support"))
    # A field that was not touched still opens.
    assert read(api, merchant.secret, jane["token"], "fulfillment").status_code == 200


def test_ciphertext_swapped_between_customers_is_rejected(api, rt, merchant, jane, john):
    janes, johns = raw_customer(rt, jane["token"]), raw_customer(rt, john["token"])
    johns["sealed_email"] = janes["sealed_email"]
    put_raw_customer(rt, johns)
    assert integrity_failure(read(api, merchant.secret, john["token"], "support"))


def test_ciphertext_moved_to_another_field_is_rejected(api, rt, merchant, jane):
    item = raw_customer(rt, jane["token"])
    item["sealed_name"] = item["sealed_email"]  # same customer, same data key
    put_raw_customer(rt, item)
    assert integrity_failure(read(api, merchant.secret, jane["token"], "fulfillment"))


def test_a_copy_taken_before_erasure_cannot_be_decrypted_after_it(api, rt, merchant, jane):
    token = jane["token"]
    backup = raw_customer(rt, token)
    assert read(api, merchant.secret, token, "support").status_code == 200

    erased = api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret)
    assert erased.status_code == 200
    tombstone = raw_customer(rt, token)
    assert not [name for name in tombstone if name.startswith("sealed_")]

    # Restore the copy, as a restore of the data table's backup would.
    put_raw_customer(rt, backup)
    assert read(api, merchant.secret, token, "support").status_code == 410
    assert api.get(f"/v1/customers/{token}/export", key=merchant.secret).status_code == 410

    # Nothing left can open it: its key is gone, and no other customer's key fits.
    keys = rt.dynamodb.scan(TableName=rt.settings.vault_keys_table)["Items"]
    assert all(k["token"]["S"] != token for k in keys)
    tokenize(api, merchant.secret, {**JANE, "email": "someone.else@example.com"})
    keys = rt.dynamodb.scan(TableName=rt.settings.vault_keys_table)["Items"]
    assert keys, "there are other customers' keys to try"
    for key_item in keys:
        context = key_context(key_item["merchant_id"]["S"], key_item["token"]["S"])
        plaintext = rt.kms.decrypt(
            CiphertextBlob=key_item["wrapped_key"]["B"], EncryptionContext=context
        )
        with pytest.raises(SealBroken):
            open_sealed(plaintext["Plaintext"], token, "email", backup["sealed_email"]["B"])


def test_a_restored_record_without_its_key_is_replaced_on_return(api, rt, merchant, jane):
    """A restored backup brings back the record and its index entry, but never the key."""
    token = jane["token"]
    index = rt.dynamodb.scan(
        TableName=rt.settings.vault_table,
        FilterExpression="#t = :t AND sk = :sk",
        ExpressionAttributeNames={"#t": "token"},
        ExpressionAttributeValues={":t": {"S": token}, ":sk": {"S": "EMAIL"}},
    )["Items"]
    backup = [raw_customer(rt, token), *index]
    api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret)
    for item in backup:
        put_raw_customer(rt, item)
    again = tokenize(api, merchant.secret, JANE)
    assert again["created"] is True and again["token"] != token
    assert raw_customer(rt, token)["status"]["S"] == "erased"


def test_a_wrapped_key_opens_only_for_its_own_customer(rt, jane, john):
    """KMS refuses a data key presented with another customer's encryption context."""
    from botocore.exceptions import ClientError

    table = rt.settings.vault_keys_table
    janes = rt.dynamodb.get_item(
        TableName=table, Key={"pk": {"S": f"KEY#{jane['token']}"}, "sk": {"S": "DATAKEY"}}
    )["Item"]
    context = key_context(janes["merchant_id"]["S"], john["token"])
    with pytest.raises(ClientError) as refused:
        rt.kms.decrypt(CiphertextBlob=janes["wrapped_key"]["B"], EncryptionContext=context)
    assert refused.value.response["Error"]["Code"] == "InvalidCiphertextException"


def test_the_keys_table_has_no_backups_and_the_data_table_has(rt):
    def pitr(table):
        description = rt.dynamodb.describe_continuous_backups(TableName=table)
        return description["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]

    assert pitr(rt.settings.vault_keys_table) == "DISABLED"
    assert pitr(rt.settings.vault_table) == "ENABLED"


# KMS cost


class KmsCalls:
    def __init__(self, client):
        self.names: list[str] = []
        client.meta.events.register("before-call.kms.*", self._count)

    def _count(self, model, **_):
        self.names.append(model.name)

    def since(self, mark: int) -> list[str]:
        return self.names[mark:]


def test_a_checkout_costs_at_most_one_kms_call(rt, merchant):
    calls = KmsCalls(rt.kms)
    vault = rt.vault
    caller = Caller.service(
        merchant.merchant.id,
        "checkout",
        frozenset({Scope.CUSTOMERS_WRITE, Scope.CUSTOMERS_FULFILLMENT}),
    )
    buyer = CustomerCreate.model_validate(JANE)

    first = vault.identify(caller, buyer, "ord_first")
    assert calls.since(0) == ["GenerateDataKey"]

    mark = len(calls.names)
    assert vault.identify(caller, buyer, "ord_second").token == first.token
    vault.detokenize_for(caller, first.token, "fulfillment", "ord_second")
    assert calls.since(mark) == [], "a returning customer within the cache time costs none"

    rt.vault_backend.keys.cache.forget(first.token)  # cold: another instance, or expired
    mark = len(calls.names)
    vault.identify(caller, buyer, "ord_third")
    assert calls.since(mark) == ["Decrypt"]

    mark = len(calls.names)
    vault.erase(caller.model_copy(update={"scopes": frozenset(Scope)}), first.token)
    assert calls.since(mark) == [], "erasure deletes the wrapped key; KMS is not needed"


def test_cached_keys_die_with_the_customer(api, rt, merchant, jane):
    token = jane["token"]
    assert read(api, merchant.secret, token, "support").status_code == 200
    cache = rt.vault_backend.keys.cache
    assert len(cache) == 1
    api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret)
    assert len(cache) == 0


def test_concurrent_first_checkouts_of_one_person_end_with_one_token(rt, merchant):
    """The loser of the index's conditional put reads the winner's token."""
    vault = rt.vault_backend
    caller = Caller.service(merchant.merchant.id, "checkout", frozenset({Scope.CUSTOMERS_WRITE}))
    buyer = CustomerCreate.model_validate(JANE)
    winner = rt.vault.identify(caller, buyer, "ord_winner")

    class RacingStore:
        """Misses the index once, as a checkout running alongside the winner's would."""

        def __init__(self, store):
            self.store, self.missed = store, False

        def token_for_index(self, index):
            if not self.missed:
                self.missed = True
                return None
            return self.store.token_for_index(index)

        def __getattr__(self, name):
            return getattr(self.store, name)

    vault.store = RacingStore(vault.store)
    loser = rt.vault.identify(caller, buyer, "ord_loser")
    assert loser.token == winner.token and loser.created is False
    assert len(rt.dynamodb.scan(TableName=rt.settings.vault_keys_table)["Items"]) == 1
