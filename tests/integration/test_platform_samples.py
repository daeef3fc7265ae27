"""The platforms' own published samples (tests/platform_samples), each delivered as the
platform sends it, signed, through its real route and the ingest consumer, has its
documented effect (`expect` in corpus.json), and none fails in the consumer (so none could
end in the dead-letter queue)."""

import pytest

from devstack import corpus
from devstack.sample_events import signed

from .corpus_helpers import problems
from .platform_helpers import SAMPLE_SECRETS, connect, seed_sample_shop
from .sales_helpers import drain

DELIVERIES = corpus.deliveries()


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


@pytest.fixture
def shop(api, rt, platforms):
    merchant = seed_sample_shop(api, rt, platforms)
    corpus.connect_accounts(platforms, lambda platform: connect(api, platforms, merchant, platform))
    corpus.seed_standin(platforms)
    return merchant


def _inbox(api, merchant) -> list[dict]:
    items, cursor = [], None
    while True:
        page = api.get(
            f"/v1/inbox?limit=100{f'&cursor={cursor}' if cursor else ''}", key=merchant.secret
        ).json
        items += page["data"]
        if not page["has_more"]:
            return items
        cursor = page["next_cursor"]


def _order_of(api, merchant):
    def order_of(order_id: str):
        found = api.get(f"/v1/orders/{order_id}", key=merchant.secret)
        return found.json if found.status_code == 200 else None

    return order_of


def test_every_sample_of_the_corpus_is_delivered_or_named_a_reference():
    manifest = corpus.manifest()
    named = {d["sample"] for d in manifest["deliveries"]} | set(manifest["references"])
    named |= {
        e["sample"]
        for table in manifest["standin"].values()
        for e in table
        if isinstance(e, dict) and "sample" in e
    }
    named |= set(manifest["standin"]["x_users_from"])
    on_disk = {
        p.relative_to(corpus.CORPUS_DIR).as_posix() for p in corpus.CORPUS_DIR.glob("*/*.json")
    }
    assert on_disk - named == set()
    for path in on_disk:
        assert (corpus.CORPUS_DIR / path.replace(".json", ".source.md")).exists(), path


@pytest.mark.parametrize("delivery", DELIVERIES, ids=[d.sample for d in DELIVERIES])
def test_each_published_sample_has_its_documented_effect(api, rt, shop, delivery, log_lines):
    response = api.post(
        delivery.route,
        raw=delivery.raw,
        headers=signed(delivery.route, delivery.raw, SAMPLE_SECRETS),
    )
    assert response.status_code == 200, response.body
    drain(api, rt)  # asserts that the consumer failed no message
    found = problems(delivery, response.json, _inbox(api, shop), _order_of(api, shop), log_lines())
    assert found == []
