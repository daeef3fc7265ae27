"""Pure rules of what the platforms send: delivery parsing limits, typed attachments, inbox
ids per account, and the order in which claims (cancellation requests, disputes) move."""

import pytest

from chalicelib.domain.claims import (
    CancellationStatus,
    DisputeKind,
    cancellation_statuses_before,
    dispute_statuses_before,
    payment_dispute,
)
from chalicelib.domain.engagement import AttachmentKind, attachment, distinct, inbox_item_id
from chalicelib.domain.inbound import MAX_DEPTH, NotAnEvent, depth_exceeds, parse_delivery


def nested(depth: int) -> object:
    value: object = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_depth_is_measured_without_recursion():
    assert not depth_exceeds(nested(MAX_DEPTH), MAX_DEPTH)
    assert depth_exceeds(nested(MAX_DEPTH + 1), MAX_DEPTH)
    assert depth_exceeds(nested(50_000), MAX_DEPTH)  # far past Python's recursion limit
    assert not depth_exceeds({"a": [{"b": 1}] * 10_000}, MAX_DEPTH)


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"{", b"\xff", b'{"a": ' * 40 + b"1" + b"}" * 40])
def test_a_body_that_is_not_a_delivery_is_refused(raw):
    with pytest.raises(NotAnEvent):
        parse_delivery(raw)


def test_attachments_are_typed_and_keep_only_web_links():
    assert attachment("ig_reel", "https://cdn.test/r.mp4").kind == AttachmentKind.REEL
    assert attachment("fallback", "https://l.test/x", "A title").title == "A title"
    assert attachment("something_new", "https://cdn.test/x").kind == AttachmentKind.OTHER
    for url in ("<ATTACHMENT_URL>", "javascript:alert(1)", "https://a b", None, 7):
        assert attachment("image", url).url is None


def test_a_post_shared_in_both_formats_is_kept_once():
    link = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"
    both = [attachment("share", link, "caption"), attachment("ig_post", link, "caption")]
    assert [a.kind for a in distinct(both)] == [AttachmentKind.POST]


def test_an_inbox_item_is_one_object_seen_by_one_account():
    assert inbox_item_id("x", "111", "900") == inbox_item_id("x", "111", "900")
    assert inbox_item_id("x", "111", "900") != inbox_item_id("x", "222", "900")
    assert inbox_item_id("x", "111", "900").startswith("inb_")


def test_a_cancellation_request_only_moves_forward():
    assert cancellation_statuses_before(CancellationStatus.PENDING) == []
    assert cancellation_statuses_before(CancellationStatus.APPROVED) == ["pending"]
    assert set(cancellation_statuses_before(CancellationStatus.COMPLETED)) == {
        "pending",
        "approved",
        "rejected",
        "withdrawn",
    }


def test_an_inquiry_escalates_into_a_chargeback_never_back():
    assert "warning_closed" in dispute_statuses_before("needs_response")
    assert "needs_response" not in dispute_statuses_before("warning_closed")
    assert dispute_statuses_before("warning_needs_response") == []


@pytest.mark.parametrize(
    ("status", "kind", "open_"),
    [
        ("warning_needs_response", DisputeKind.INQUIRY, True),
        ("warning_closed", DisputeKind.INQUIRY, False),
        ("needs_response", DisputeKind.CHARGEBACK, True),
        ("lost", DisputeKind.CHARGEBACK, False),
    ],
)
def test_a_dispute_is_an_inquiry_or_a_chargeback(status, kind, open_):
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    dispute = payment_dispute("dp_1", status, "general", 1000, "usd", now, now)
    assert (dispute.kind, dispute.open, dispute.currency) == (kind, open_, "USD")
