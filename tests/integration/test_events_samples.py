"""Every sample in events/ is signed as its platform signs it, goes through its route, and
(but Stripe's, whose order does not exist here) has its effect through the consumer."""

import pytest

from devstack.sample_events import load, signed

from .platform_helpers import SAMPLE_SECRETS, SAMPLES, seed_sample_shop
from .sales_helpers import drain


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def test_there_is_a_sample_for_every_platform():
    routes = {load(path)[0] for path in SAMPLES}
    assert routes == {f"/v1/webhooks/{p}" for p in ("meta", "tiktok", "x", "stripe")}


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_each_sample_runs_through_its_route(api, rt, path, platforms):
    merchant = seed_sample_shop(api, rt, platforms)

    route, raw = load(path)
    response = api.post(route, raw=raw, headers=signed(route, raw, SAMPLE_SECRETS))
    assert response.status_code == 200, response.body
    if route.endswith("stripe"):
        return
    drain(api, rt)
    if "order" in path.name:
        orders = api.get("/v1/orders", key=merchant.secret).json["data"]
        assert [(o["source"], o["status"]) for o in orders] == [("tiktok", "paid")]
    else:
        (item,) = api.get("/v1/inbox", key=merchant.secret).json["data"]
        assert item["platform"] in ("instagram", "x")
    if path.name in ("meta-instagram-comment.json", "x-mention.json"):
        assert api.get("/v1/inbox", key=merchant.secret).json["data"][0]["reply"] == "sent"
