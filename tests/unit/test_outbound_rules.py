"""The outbound webhooks' pure rules: addresses we never post to, signatures, retries and the
low-stock crossing."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from chalicelib.domain.outbound import (
    RETRY_SCHEDULE_SECONDS,
    check_url_shape,
    inventory_crossed_low,
    is_public_address,
    new_secret,
    retry_delay,
    should_disable,
    signed_headers,
)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",  # noqa: S104
     "100.64.0.1", "224.0.0.251", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1",
     "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
     "2002:0a00:0001::1", "fe80::1%eth0"],
)  # fmt: skip
def test_inside_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_internet_addresses_are_public(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url",
    ["http://a.example.com/", "https://", "https://u:p@a.example.com/", "https://a.com/#x",
     "javascript:alert(1)"],
)  # fmt: skip
def test_only_plain_https_urls_have_the_right_shape(url):
    with pytest.raises(ValueError):
        check_url_shape(url, allow_http=False)


def test_our_signature_is_the_standard_ones():
    secret = new_secret(bytes(range(32)))
    body = b'{"type":"order.paid"}'
    at = int(datetime.now(UTC).timestamp())
    headers = signed_headers([secret], "evt_1", at, body)
    assert Webhook(secret).verify(body, headers) == {"type": "order.paid"}
    assert headers["webhook-signature"].startswith("v1,")


def test_retries_follow_the_schedule_with_bounded_jitter_then_stop():
    rng = random.Random(1)
    for attempt, base in enumerate(RETRY_SCHEDULE_SECONDS, start=1):
        delay = retry_delay(attempt, RETRY_SCHEDULE_SECONDS, rng)
        assert delay is not None and base <= delay <= base * 1.2
    assert retry_delay(len(RETRY_SCHEDULE_SECONDS) + 1, RETRY_SCHEDULE_SECONDS, rng) is None
    assert sum(RETRY_SCHEDULE_SECONDS) >= 24 * 3600


def test_disabling_waits_for_the_whole_failing_time():
    now = datetime.now(UTC)
    assert not should_disable(None, now, timedelta(hours=1))
    assert not should_disable(now - timedelta(minutes=59), now, timedelta(hours=1))
    assert should_disable(now - timedelta(hours=1), now, timedelta(hours=1))


@pytest.mark.parametrize(
    ("before", "after", "threshold", "crossed"),
    [(5, 3, 3, False), (3, 2, 3, True), (2, 1, 3, False), (5, 1, 3, True), (5, 1, None, False),
     (None, 1, 3, False), (1, 4, 3, False)],
)  # fmt: skip
def test_low_stock_is_announced_when_it_crosses_the_threshold(before, after, threshold, crossed):
    assert inventory_crossed_low(before, after, threshold) is crossed
