"""Who can do what to webhook endpoints and events: another merchant sees nothing, a URL that
leads inside (SSRF) is refused outside dev, bad input is refused with the contract's error
body and nothing is stored, and secrets never show after creation."""

import pytest

from chalicelib.adapters.webhook_http import WebhookSender

from .outbound_helpers import Outbox, flush, paid_order, register, use_settings


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # plain http
        "https://127.0.0.1/x",  # loopback
        "https://localhost:9001/2018-06-01/runtime/invocation/next",  # Lambda's runtime API
        "https://169.254.169.254/latest/meta-data/",  # the metadata service
        "https://[::1]/x",
        "https://[::ffff:10.0.0.1]/x",  # IPv4-mapped private
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://[fd00::1]/x",  # unique local
        "https://[fe80::1]/x",  # link-local
        "https://224.0.0.1/x",  # multicast
        "https://0.0.0.0/x",
        "https://user:pw@hooks.example.com/x",
        "ftp://hooks.example.com/x",
    ],
)
def test_outside_dev_urls_that_lead_inside_are_refused(api, rt, merchant, url):
    use_settings(rt, webhook_local_urls=False)
    response = api.post(
        "/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]}, key=merchant.secret
    )
    assert response.status_code == 422, response.body
    assert response.json["error"]["param"] == "url"
    assert api.get("/v1/webhook_endpoints", key=merchant.secret).json["data"] == []


def test_an_address_that_turned_private_after_registration_is_not_posted_to(monkeypatch):
    """DNS can change between the check at registration and an attempt: each attempt
    resolves again and refuses a private address (and connects to the address it checked)."""
    import socket

    sender = WebhookSender(local_only=False, timeout=2)
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("169.254.169.254", 443))]
    )
    outcome = sender.send("https://hooks.example.com/x", {}, b"{}")
    assert outcome.status_code is None and outcome.error.startswith("destination_refused")


def test_redirects_are_not_followed(api, rt, merchant, product, receiver):
    receiver.status = 302  # a Location to anywhere would be ignored: 3xx is a failure
    use_settings(rt, webhook_retry_seconds=[])
    endpoint = register(api, merchant.secret, receiver.url, ["order.paid"])
    outbox = Outbox(api, rt)
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    attempts = api.get(
        f"/v1/webhook_endpoints/{endpoint['id']}/deliveries", key=merchant.secret
    ).json["data"]
    assert [(a["status"], a["response_status"]) for a in attempts] == [("failed", 302)]


def test_another_merchant_sees_and_changes_nothing(
    api, rt, merchant, other_merchant, product, receiver
):
    endpoint = register(api, merchant.secret, receiver.url)
    outbox = Outbox(api, rt)
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    (evt, *_) = api.get("/v1/events", key=merchant.secret).json["data"]
    theirs = other_merchant.secret
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    for response in (
        api.get(path, key=theirs),
        api.patch(path, {"url": "https://evil.example.com/x"}, key=theirs),
        api.delete(path, key=theirs),
        api.post(f"{path}/rotate_secret", {}, key=theirs),
        api.get(f"{path}/deliveries", key=theirs),
        api.get(f"/v1/events/{evt['id']}", key=theirs),
        api.post(f"/v1/events/{evt['id']}/redeliver", {}, key=theirs),
        api.post(f"/v1/events/{evt['id']}/redeliver", {"endpoint_id": endpoint["id"]}, key=theirs),
    ):
        assert response.status_code == 404, response.body
        assert response.json["error"]["type"] == "not_found"
    assert api.get("/v1/events", key=theirs).json["data"] == []
    assert api.get("/v1/webhook_endpoints", key=theirs).json["data"] == []
    mine = api.get(path, key=merchant.secret).json
    assert mine["url"] == receiver.url and mine["enabled"]


def test_keys_without_the_webhook_scopes_are_refused(api, rt, merchant):
    from chalicelib.domain.scopes import Scope
    from chalicelib.services.merchants import issue_key

    narrow = issue_key(rt.merchants, merchant.merchant.id, frozenset({Scope.ORDERS_READ}))
    response = api.post(
        "/v1/webhook_endpoints",
        {"url": "https://hooks.example.com/x", "enabled_events": ["*"]},
        key=narrow.secret,
    )
    assert response.status_code == 403
    assert api.get("/v1/events", key=narrow.secret).status_code == 403
    assert api.get("/v1/events").status_code == 401


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": "https://hooks.example.com/x", "enabled_events": ["order.lost"]},
         "enabled_events[0]"),
        ({"url": "https://hooks.example.com/x", "enabled_events": []}, "enabled_events"),
        ({"url": "https://hooks.example.com/x"}, "enabled_events"),
        ({"url": "https://hooks.example.com/x", "enabled_events": ["*"], "secret": "whsec_x"},
         "secret"),
        ({"url": "x" * 3000, "enabled_events": ["*"]}, "url"),
    ],
)  # fmt: skip
def test_bad_endpoints_are_refused_and_nothing_is_stored(api, merchant, body, param):
    response = api.post("/v1/webhook_endpoints", body, key=merchant.secret)
    assert response.status_code == 422, response.body
    assert response.json["error"]["param"].startswith(param)
    assert api.get("/v1/webhook_endpoints", key=merchant.secret).json["data"] == []


def test_secrets_appear_only_when_made_and_never_in_logs(api, rt, merchant, receiver, log_lines):
    created = register(api, merchant.secret, receiver.url)
    rotated = api.post(
        f"/v1/webhook_endpoints/{created['id']}/rotate_secret", {}, key=merchant.secret
    ).json
    listed = api.get("/v1/webhook_endpoints", key=merchant.secret).json["data"]
    assert [e["secret"] for e in listed] == [None]
    logged = str(log_lines())
    for secret in (created["secret"], rotated["secret"]):
        assert secret not in logged and secret[6:] not in logged


def test_in_dev_only_this_machine_is_posted_to(api, merchant):
    """`make run` and the tests (webhook_local_urls): loopback only, so a local stack, its
    tests and its fuzzing never post to another machine."""
    for url in ("https://10.1.2.3/x", "http://192.168.0.10/x", "https://93.184.216.34/x"):
        response = api.post(
            "/v1/webhook_endpoints", {"url": url, "enabled_events": ["*"]}, key=merchant.secret
        )
        assert response.status_code == 422, (url, response.body)
    ok = api.post(
        "/v1/webhook_endpoints",
        {"url": "http://127.0.0.1:9/x", "enabled_events": ["*"]},
        key=merchant.secret,
    )
    assert ok.status_code == 201, ok.body
