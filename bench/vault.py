"""The vault's cost: time per tokenize and detokenize, and KMS calls per operation.

Everything runs in this process against moto (`mock_aws`), through `runtime().vault`, the same
client the routes use (command dicts in, reply dicts out, in-process transport).

Time per operation is compared with a floor measured in the same run: the DynamoDB and KMS
calls that operation cannot avoid, made directly through boto3 against the same emulator,
with items of the same size. The ratio is what the vault adds on top (validation, the blind
index, AES-GCM, the command round trip). Vault and floor batches alternate, so a slow moment of
the machine hits both; medians are compared. Throughput rows are the same measurements as
operations per second.

KMS calls are counted with botocore's `before-call.kms.*` event; the budget is one call per
operation (a checkout tokenizes once), so ratio = calls / 1.
"""

import base64
import logging
import os
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager

from bench import Result

ROUNDS = 5
PER_ROUND = 20
TARGET = 1.5  # the vault may add at most half of its unavoidable calls' time
KMS_SAMPLES = 20
KMS_BUDGET = 1.0  # calls per operation: a checkout tokenizes once

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "SHOPPABLE_VAULT_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
    "SHOPPABLE_EDGE_CALLER_KEY": base64.b64encode(os.urandom(32)).decode(),
    "SHOPPABLE_WORKER_CALLER_KEY": base64.b64encode(os.urandom(32)).decode(),
}


@contextmanager
def _emulated():
    """Fake credentials, quiet logs, moto; the previous environment is put back after."""
    saved = {name: os.environ.get(name) for name in [*ENVIRONMENT, "AWS_ENDPOINT_URL"]}
    os.environ.update(ENVIRONMENT)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from chalicelib import runtime as runtime_module
    from chalicelib.observability import logger
    from chalicelib.resources import provision

    shoppable = logging.getLogger(logger.name)
    level = shoppable.level
    shoppable.setLevel(logging.WARNING)  # one INFO line per operation would dominate the run

    try:
        with mock_aws():
            rt = runtime_module.reset()
            provision(rt)
            yield rt
    finally:
        runtime_module.reset()
        shoppable.setLevel(level)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _person(n: int):
    from chalicelib.vault.models import CustomerCreate

    return CustomerCreate(
        email=f"bench.person{n}@example.com",
        name=f"Bench Person {n}",
        phone=f"+4420794{abs(n):05d}",
        shipping_address={
            "line1": f"{n} Bench Street",
            "city": "London",
            "postal_code": "N1 1AA",
            "country": "GB",
        },
    )


def _ms_per_op(operation: Callable[[int], object], start: int, count: int) -> float:
    began = time.perf_counter()
    for n in range(start, start + count):
        operation(n)
    return (time.perf_counter() - began) * 1000 / count


def _compare(vault_op, floor_op) -> tuple[float, float]:
    """Median ms/op of the vault operation and of its floor, in alternating batches."""
    vault, floor = [], []
    for round_ in range(ROUNDS):
        vault.append(_ms_per_op(vault_op, round_ * PER_ROUND, PER_ROUND))
        floor.append(_ms_per_op(floor_op, round_ * PER_ROUND, PER_ROUND))
    return statistics.median(vault), statistics.median(floor)


class _Floor:
    """The unavoidable calls of each operation, straight through boto3, on copies of real
    vault items (same attributes and sizes), so the emulator does the same work for both."""

    def __init__(self, rt, sample_token: str, context: dict[str, str]):
        self.context = context
        self.db = rt.dynamodb
        self.kms = rt.kms
        self.data = rt.settings.vault_table
        self.keys = rt.settings.vault_keys_table
        self.key_id = rt.settings.vault_key_id
        self.record = self._raw(self.data, f"CUS#{sample_token}", "CUSTOMER")
        self.key = self._raw(self.keys, f"KEY#{sample_token}", "DATAKEY")
        audits = self.db.query(
            TableName=self.data,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
            ExpressionAttributeValues={":pk": {"S": f"CUS#{sample_token}"}, ":a": {"S": "AUDIT#"}},
        )["Items"]
        self.audit = audits[0]
        self.index = {"token": {"S": sample_token}}
        self.wrapped = self.key["wrapped_key"]["B"]

    def _raw(self, table, pk, sk):
        return self.db.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]

    def _get(self, table, pk, sk):
        self.db.get_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )

    @staticmethod
    def _as(item, pk, sk):
        return {**item, "pk": {"S": pk}, "sk": {"S": sk}}

    def _audit(self, n):
        return self._as(self.audit, f"FLOOR#{n}", f"AUDIT#{time.time_ns()}")

    def tokenize_new(self, n):
        self._get(self.data, f"FLOORIDX#{n}", "EMAIL")
        self.kms.generate_data_key(KeyId=self.key_id, KeySpec="AES_256")
        self.db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.data,
                        "Item": self._as(self.index, f"FLOORIDX#{n}", "EMAIL"),
                    }
                },
                {
                    "Put": {
                        "TableName": self.data,
                        "Item": self._as(self.record, f"FLOOR#{n}", "CUSTOMER"),
                    }
                },
                {"Put": {"TableName": self.data, "Item": self._audit(n)}},
                {
                    "Put": {
                        "TableName": self.keys,
                        "Item": self._as(self.key, f"FLOORKEY#{n}", "DATAKEY"),
                    }
                },
            ]
        )

    def tokenize_returning(self, n):
        self._get(self.data, f"FLOORIDX#{n}", "EMAIL")
        self._get(self.data, f"FLOOR#{n}", "CUSTOMER")
        self._get(self.keys, f"FLOORKEY#{n}", "DATAKEY")
        self.db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.data,
                        "Item": self._as(self.record, f"FLOOR#{n}", "CUSTOMER"),
                    }
                },
                {"Put": {"TableName": self.data, "Item": self._audit(n)}},
            ]
        )

    def detokenize_warm(self, n):
        self._get(self.data, f"FLOOR#{n}", "CUSTOMER")
        self._get(self.keys, f"FLOORKEY#{n}", "DATAKEY")
        self.db.put_item(TableName=self.data, Item=self._audit(n))

    def detokenize_cold(self, n):
        self.detokenize_warm(n)
        self.kms.decrypt(CiphertextBlob=self.wrapped, EncryptionContext=self.context)


class _KmsCounter:
    def __init__(self, client):
        self.calls = 0
        client.meta.events.register("before-call.kms.*", self._count)

    def _count(self, **_):
        self.calls += 1

    def per_op(self, operation: Callable[[], object], count: int) -> float:
        before = self.calls
        for _ in range(count):
            operation()
        return (self.calls - before) / count


def run() -> list[Result]:
    from chalicelib.domain.merchants import Scope
    from chalicelib.vault.keyring import DataKeyCache, key_context
    from chalicelib.vault.models import Caller
    from chalicelib.vault.policy import Purpose

    results: list[Result] = []
    with _emulated() as rt:
        vault = rt.vault
        caller = Caller(merchant_id="mer_bench", actor="key_bench", scopes=frozenset(Scope))
        sample = vault.tokenize(caller, _person(-1)).token
        floor = _Floor(rt, sample, key_context(caller.merchant_id, sample))
        warm = rt.vault_backend.keys.cache
        tokens: dict[int, str] = {}

        def tokenize(n):
            tokens[n] = vault.tokenize(caller, _person(n)).token

        def detokenize(n):
            vault.detokenize_for(caller, tokens[n], Purpose.FULFILLMENT)

        def cold(operation):
            """`operation` finding no data key cached, as on another instance or later."""

            def uncached(n):
                rt.vault_backend.keys.cache = DataKeyCache(ttl_seconds=0)
                operation(n)

            return uncached

        timed = [
            ("vault tokenize, new customer", tokenize, floor.tokenize_new, "tokenize"),
            ("vault tokenize, returning customer", tokenize, floor.tokenize_returning, None),
            ("vault detokenize (cached data key)", detokenize, floor.detokenize_warm, "detokenize"),
            ("vault detokenize (KMS decrypt)", cold(detokenize), floor.detokenize_cold, None),
        ]
        for name, operation, unavoidable, throughput in timed:
            rt.vault_backend.keys.cache = warm
            value, floor_ms = _compare(operation, unavoidable)
            results.append(Result(name, value, "ms/op", floor=floor_ms, target=TARGET))
            if throughput:
                results.append(Result(f"vault {throughput} throughput", 1000 / value, "ops/s"))
        rt.vault_backend.keys.cache = warm

        counter = _KmsCounter(rt.kms)
        new = iter(range(10_000, 10_000 + KMS_SAMPLES))
        erasable = iter(range(10_000, 10_000 + KMS_SAMPLES))
        counted = [
            ("KMS calls per tokenize, new customer", lambda: tokenize(next(new))),
            ("KMS calls per tokenize, returning (cached)", lambda: tokenize(0)),
            ("KMS calls per detokenize (cached)", lambda: detokenize(0)),
            ("KMS calls per tokenize, returning (not cached)", lambda: cold(tokenize)(0)),
            ("KMS calls per detokenize (not cached)", lambda: cold(detokenize)(0)),
            ("KMS calls per erase", lambda: vault.erase(caller, tokens[next(erasable)])),
        ]
        for name, operation in counted:
            calls = counter.per_op(operation, KMS_SAMPLES)
            results.append(Result(name, calls, "calls/op", floor=KMS_BUDGET, target=1.0))
    return results


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run()))
