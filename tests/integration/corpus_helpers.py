"""Checking a published sample's documented effect (`expect` in tests/platform_samples/
corpus.json), the same way in-process and against the `make run` stack."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.services.platform_orders import order_id_for
from devstack.corpus import Delivery


def problems(
    delivery: Delivery,
    answer: dict[str, Any],
    inbox: list[dict[str, Any]],
    order_of: Callable[[str], dict[str, Any] | None],
    logs: list[dict[str, Any]],
) -> list[str]:
    """What differs from the documented effect: an empty list when all is as expected."""
    expect, found = delivery.expect, []
    if "events" in expect and answer.get("events") != expect["events"]:
        found.append(f"the route queued {answer.get('events')} events, not {expect['events']}")
    if "test" in expect and not any(
        line.get("message") == "webhook test received" and line.get("field") == expect["test"]
        for line in logs
    ):
        found.append(f"no 'webhook test received' log line for {expect['test']}")
    if "inbox" in expect:
        found += _inbox_problems(expect["inbox"], inbox)
    if "order" in expect:
        found += _order_problems(expect["order"], order_of)
    if expect.get("stripe") == "not_ours":
        event_id = delivery.body["id"]
        if not any(
            line.get("event_id") == event_id and line.get("reason") == "not_ours" for line in logs
        ):
            found.append(f"{event_id} was not logged as not ours")
    if expect.get("stripe") == "not_acted_on" and answer != {"received": True}:
        found.append(f"the route answered {answer}, not a plain acknowledgement")
    return found


def _inbox_problems(expected: dict[str, Any], inbox: list[dict[str, Any]]) -> list[str]:
    matching = [
        i
        for i in inbox
        if i["platform"] == expected["platform"] and i["external_id"] == expected["external_id"]
    ]
    if len(matching) != 1:
        return [f"{len(matching)} inbox items for {expected['external_id']}, not 1"]
    (item,) = matching
    found = []
    for name in ("kind", "text", "state"):
        if name in expected and item[name] != expected[name]:
            found.append(f"{name} is {item[name]!r}, not {expected[name]!r}")
    if "text_ends" in expected and not item["text"].endswith(expected["text_ends"]):
        found.append(f"the text {item['text'][-60:]!r} does not end as published")
    if expected.get("author") == "known" and not (item["author"] or {}).get("token", ""):
        found.append("no author")
    if expected.get("author") == "unknown" and item["author"] is not None:
        found.append(f"an author: {item['author']}")
    if "attachments" in expected:
        kinds = [a["kind"] for a in item["attachments"]]
        if kinds != expected["attachments"]:
            found.append(f"attachments {kinds}, not {expected['attachments']}")
        if not all((a["url"] or "").startswith("https://") for a in item["attachments"]):
            found.append("an attachment without its link")
    if expected.get("edited") and item["edited_at"] is None:
        found.append("not marked edited")
    if "occurred_at" in expected and _at(item["occurred_at"]) != _at(expected["occurred_at"]):
        found.append(f"occurred at {item['occurred_at']}, not {expected['occurred_at']}")
    return found


def _order_problems(expected: dict[str, Any], order_of) -> list[str]:
    order = order_of(order_id_for(expected["platform"], expected["external_id"]))
    if not expected.get("imported", True):
        return [] if order is None else [f"imported as {order['status']}; it is not paid"]
    if order is None:
        return ["not imported"]
    found = []
    if "status" in expected and order["status"] != expected["status"]:
        found.append(f"status {order['status']}, not {expected['status']}")
    for name, value in (expected.get("cancellation") or {}).items():
        held = (order.get("cancellation") or {}).get(name)
        if held != value:
            found.append(f"cancellation {name} is {held!r}, not {value!r}")
    return found


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
