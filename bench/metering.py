"""What a piece of work costs in billable requests, counted where the SDKs send them.

`Meter` counts each request of the runtime's clients (DynamoDB, SQS, KMS, Lambda) on
botocore's `after-call` event, and wraps the Stripe SDK's HTTP client, so every request the app
makes is seen, whichever module makes it. For DynamoDB it also keeps what each request read or
wrote (table, key, item size, transactional or not), so that capacity is computed the way
on-demand DynamoDB bills it (docs.aws.amazon.com/amazondynamodb/latest/developerguide/
CapacityUnitCalculations.html and .../read-write-operations.html):

- a write is 1 write unit per started KB of the item (the larger of before and after; here
  the item as it is at the end of the metered work, so an upper bound), 2 in a transaction;
  a ConditionCheck in a transaction is billed as a transactional write of its item;
- a read is 1 read unit per started 4 KB if strongly consistent, half if not, 2 in a
  transaction; a missing item still costs the minimum; a Query rounds the sum of its items'
  sizes, not each item's.

Lambda work is metered by the caller (`invoked`): one request and its duration per
invocation, at the function's memory size.
"""

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
# The main table's global secondary indexes: whether each projects all attributes
# (chalicelib/adapters/dynamodb/schema.py).
INDEXES = {"gsi1": True, "gsi2": False}
READ_UNIT_BYTES = 4 * KB
WRITE_UNIT_BYTES = KB


def attribute_size(value: dict[str, Any]) -> int:
    """Size of one attribute value in DynamoDB's wire form, as DynamoDB counts it."""
    (kind, inner), = value.items()  # fmt: skip
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = str(Decimal(inner).normalize()).lstrip("-").replace(".", "").lstrip("0")
        return math.ceil(len(digits or "0") / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(attribute_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, dict]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def _write_units(item: dict[str, dict]) -> int:
    return max(1, math.ceil(item_size(item) / WRITE_UNIT_BYTES))


def _key_of(item_or_key: dict[str, dict]) -> tuple[str, str]:
    return item_or_key["pk"]["S"], item_or_key["sk"]["S"]  # every table is keyed pk + sk


@dataclass
class Write:
    table: str
    key: tuple[str, str]
    transactional: bool
    item: dict | None  # known for a Put; else read back at the end


@dataclass
class Usage:
    """Counted requests and capacity of one piece of work (one checkout, say)."""

    requests: Counter = field(default_factory=Counter)  # (service, operation) -> calls
    read_units: float = 0.0
    write_units: float = 0.0
    writes_by_key: dict[tuple[str, tuple[str, str]], float] = field(
        default_factory=lambda: defaultdict(float)
    )
    lambda_invocations: Counter = field(default_factory=Counter)  # function -> invocations
    lambda_ms: Counter = field(default_factory=Counter)  # function -> billed ms

    def calls(self, service: str) -> int:
        return sum(n for (s, _), n in self.requests.items() if s == service)

    def add(self, other: "Usage") -> None:
        self.requests.update(other.requests)
        self.read_units += other.read_units
        self.write_units += other.write_units
        for key, units in other.writes_by_key.items():
            self.writes_by_key[key] += units
        self.lambda_invocations.update(other.lambda_invocations)
        self.lambda_ms.update(other.lambda_ms)


class Meter:
    def __init__(self, dynamodb):
        self._dynamodb = dynamodb
        self._paused = False
        self.usage = Usage()
        self._writes: list[Write] = []

    # Hooks

    def watch(self, client, service: str) -> None:
        """Count `client`'s requests: `after-call` fires once per request sent and answered
        (a failed conditional write is billed too); the API parameters are kept for it from
        `before-parameter-build` (`before-call` carries the serialized HTTP request)."""
        client.meta.events.register(f"before-parameter-build.{service}", self._before)
        client.meta.events.register(f"after-call.{service}", self._after)

    def watch_stripe(self, payments) -> None:
        """Count the Stripe SDK's HTTP requests of `payments` (the app's StripePayments)."""
        import stripe

        http = stripe.new_default_http_client()
        send = http.request_with_retries

        def counted(*args, **kwargs):
            if not self._paused:
                self.usage.requests["stripe", "http"] += 1
            return send(*args, **kwargs)

        http.request_with_retries = counted
        payments._http_client = http
        payments._client = None  # built again, with this client, on its next call

    def _before(self, model, params, context, **_) -> None:
        context["metered_params"] = params

    def _after(self, model, parsed, context, **_) -> None:
        if self._paused:
            return
        service = model.service_model.service_name
        self.usage.requests[service, model.name] += 1
        if service == "dynamodb":
            self._capacity(model.name, context.get("metered_params") or {}, parsed)

    # DynamoDB capacity

    def _read(self, size: int, strong: bool, transactional: bool = False) -> None:
        units = max(1, math.ceil(size / READ_UNIT_BYTES))
        self.usage.read_units += units * (2 if transactional else 1 if strong else 0.5)

    def _capacity(self, operation: str, params: dict, parsed: dict) -> None:
        if operation == "GetItem":
            self._read(item_size(parsed.get("Item") or {}), params.get("ConsistentRead", False))
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                found = {_key_of(i): i for i in parsed.get("Responses", {}).get(table, [])}
                unprocessed = parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
                skipped = {_key_of(k) for k in unprocessed}
                for key in request["Keys"]:
                    if _key_of(key) not in skipped:
                        item = found.get(_key_of(key)) or {}
                        self._read(item_size(item), request.get("ConsistentRead", False))
        elif operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in parsed.get("Items", []))
            self._read(size, params.get("ConsistentRead", False))
        elif operation == "TransactGetItems":
            for entry in parsed.get("Responses", []):
                self._read(item_size(entry.get("Item") or {}), True, transactional=True)
        elif operation == "PutItem":
            self._write(params["TableName"], params["Item"], False, params["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            self._write(params["TableName"], params["Key"], False, None)
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        self._write(table, item, False, item)
                    else:
                        self._write(table, request["DeleteRequest"]["Key"], False, None)
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (kind, op), = entry.items()  # fmt: skip
                if kind == "Put":
                    self._write(op["TableName"], op["Item"], True, op["Item"])
                else:
                    self._write(op["TableName"], op["Key"], True, None)

    def _write(self, table: str, item_or_key: dict, transactional: bool, item: dict | None) -> None:
        self._writes.append(Write(table, _key_of(item_or_key), transactional, item))

    def settle(self) -> Usage:
        """Price the writes gathered since the last settle (reading back the items the request
        did not carry whole), and hand over the usage; the meter starts again.

        A write to an item that is in a global secondary index writes the index too: one
        write of the item's size to an index projecting all attributes, one unit to a keys-only
        one (an index entry removed by the write is not counted: a unit at most)."""
        self._paused = True
        try:
            found: dict[tuple[str, tuple[str, str]], dict] = {}
            for write in self._writes:
                slot = (write.table, write.key)
                item = write.item
                if item is None:
                    if slot not in found:
                        key = {"pk": {"S": write.key[0]}, "sk": {"S": write.key[1]}}
                        answer = self._dynamodb.get_item(TableName=write.table, Key=key)
                        found[slot] = answer.get("Item") or {}
                    item = found[slot]
                units = _write_units(item) * (2 if write.transactional else 1)
                self.usage.writes_by_key[slot] += units
                for index, projects_all in INDEXES.items():
                    if f"{index}pk" in item:
                        units += _write_units(item) if projects_all else 1
                self.usage.write_units += units
        finally:
            self._paused = False
        usage, self.usage, self._writes = self.usage, Usage(), []
        return usage

    def invoked(self, function: str, started: float) -> None:
        """One Lambda invocation of `function` that began at `started` (perf_counter)."""
        if self._paused:
            return
        self.usage.lambda_invocations[function] += 1
        self.usage.lambda_ms[function] += math.ceil((time.perf_counter() - started) * 1000)

    def pause(self) -> "_Paused":
        return _Paused(self)


class _Paused:
    def __init__(self, meter: Meter):
        self.meter = meter

    def __enter__(self) -> None:
        self.meter._paused = True

    def __exit__(self, *exc) -> None:
        self.meter._paused = False
