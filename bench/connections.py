"""Acting as a merchant's connection: what opening its token costs each platform call, against
a floor measured in the same run.

Both sides run in this process against moto (in-process, `mock_aws`), interleaved:

- floor: one consistent `GetItem` of the grant, the least any per-merchant token lookup costs
  (an operator-wide token from settings cost nothing, and acted for everyone);
- value: `ConnectionRepository.access_for` as every publish, reply and order look-up calls it:
  the grant and its wrapped data key read, the key unwrapped (from the in-memory cache after
  the first call), the tokens opened with AES-256-GCM, the account's token picked.

Target: at most 3 times the floor (two reads and a decryption). Also reported: KMS calls per
100 acting calls (the cache should make it 1).
"""

import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench import Result

CALLS = 300


def run() -> list[Result]:
    from moto import mock_aws

    from chalicelib import runtime as runtime_module
    from chalicelib.adapters.dynamodb import keys
    from chalicelib.domain.connections import Connection, Grant, Platform, Tokens
    from chalicelib.resources import provision

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's fake credentials)
        AWS_REGION="us-east-1",
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        rt = runtime_module.reset()
        provision(rt)
        now = datetime.now(UTC)
        grant = Grant(
            id="grt_bench", merchant_id="mer_bench", source="meta", user_id="u1",
            accounts=["instagram#17841400000000000"], access_expires_at=now + timedelta(days=60),
            created_at=now, updated_at=now,
        )  # fmt: skip
        connection = Connection(
            id="conn_bench", merchant_id="mer_bench", platform=Platform.INSTAGRAM,
            account_id="17841400000000000", grant_id=grant.id, details={"page_id": "p1"},
            created_at=now, updated_at=now,
        )  # fmt: skip
        tokens = Tokens(access_token="user", account_tokens={"p1": "page"})  # noqa: S106
        store = rt.connection_store
        store.connect(grant, tokens, [connection], [])
        kms_calls = 0

        def count(**_: object) -> None:
            nonlocal kms_calls
            kms_calls += 1

        rt.kms.meta.events.register("before-call.kms.Decrypt", count)
        rt.token_sealer.forget(grant.id)  # start cold, as a new container does

        def floor_once() -> None:
            rt.table.get(keys.grant(grant.id))

        def acting_once() -> None:
            assert store.access_for(connection).token == "page"  # noqa: S105

        timings: dict[str, list[float]] = {"floor": [], "acting": []}
        for _ in range(CALLS):
            for name, once in (("floor", floor_once), ("acting", acting_once)):
                t = time.perf_counter()
                once()
                timings[name].append(time.perf_counter() - t)
        runtime_module.reset()

    floor = statistics.median(timings["floor"]) * 1000
    acting = statistics.median(timings["acting"]) * 1000
    return [
        Result("open a connection's token (p50)", acting, "ms", floor=floor, target=3.0),
        Result("KMS calls per 100 platform calls", kms_calls * 100 / CALLS, "calls"),
    ]
