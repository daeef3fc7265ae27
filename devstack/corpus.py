"""The platforms' own published samples (tests/platform_samples), as deliveries to our routes.

`tests/platform_samples/corpus.json` says, for each sample, which route it goes to and the
little that must change for it to reach an account of ours: a placeholder Meta prints
("<PSID>", "{PAGE_ID}") replaced by a concrete id or https link, a routing id set (an entry's
account, a de-duplication id several samples share), an event item put in the envelope Meta
documents for it. It also lists the accounts the samples are for, and what the platforms hold
that our look-ups read (Graph objects and profiles, mentions, X users and posts, TikTok
orders and cancellations), seeded into the platform stand-in from the samples themselves.

`make run` connects the accounts to the demo shop (through the platforms' OAuth redirect flow,
one authorization per account) and seeds the stand-in, so that
`python -m devstack.cli send-event tests/platform_samples/<platform>/<sample>.json` shows each
one's effect; the corpus tests check every `expect` through the real routes.
"""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "platform_samples"


@dataclass(frozen=True)
class Delivery:
    sample: str  # its path under tests/platform_samples
    route: str
    body: Any
    expect: dict[str, Any]

    @property
    def raw(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()


def manifest() -> dict[str, Any]:
    return json.loads((CORPUS_DIR / "corpus.json").read_text())


def sample(name: str) -> Any:
    return json.loads((CORPUS_DIR / name).read_text())


def deliveries() -> list[Delivery]:
    return [_delivery(entry) for entry in manifest()["deliveries"]]


def delivery_for(path: Path) -> Delivery | None:
    """The delivery of the sample at `path`, if the corpus delivers it."""
    try:
        name = Path(path).resolve().relative_to(CORPUS_DIR).as_posix()
    except ValueError:
        return None
    return next((d for d in deliveries() if d.sample == name), None)


def _delivery(entry: dict[str, Any]) -> Delivery:
    body = _replaced(sample(entry["sample"]), entry.get("replace", {}))
    for path, value in entry.get("set", {}).items():
        _set(body, path, value)
    wrap = entry.get("wrap")
    if wrap == "page_messaging":  # one `entry[].messaging[]` item, as Meta prints it
        page = body["recipient"]["id"]
        body = {"object": "page", "entry": [{"id": page, "time": body["timestamp"],
                                            "messaging": [body]}]}  # fmt: skip
    elif wrap == "page_entry":  # one `entry[]`, without the envelope
        body = {"object": "page", "entry": [body]}
    return Delivery(entry["sample"], entry["route"], body, entry.get("expect", {}))


def _replaced(value: Any, replace: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replaced(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, replace) for v in value]
    if isinstance(value, str):
        return replace.get(value, value)
    return value


def _set(body: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        body = body[int(part)] if isinstance(body, list) else body[part]
    if isinstance(body, list):
        body[int(last)] = value
    else:
        body[last] = value


# What `make run` and the corpus tests prepare


def accounts() -> dict[str, list[str]]:
    return manifest()["accounts"]


def connect_accounts(standin, connect: Callable[[str], object]) -> None:
    """Connect the samples' accounts to a merchant through the OAuth redirect flow, as the
    merchant would: the stand-in's consent screen grants one account at a time, and
    `connect(platform)` goes through it and back to the API's callback. The stand-in grants
    its default accounts again afterwards."""
    try:
        for platform, ids in accounts().items():
            for account_id in ids:
                standin.oauth.grant_accounts(platform, account_id)
                connect(platform)
    finally:
        standin.oauth.grant_defaults()


def seed_standin(standin) -> None:
    """What the platforms hold that the samples' look-ups read."""
    from .platform_standin import tiktok_order

    held = manifest()["standin"]
    for entry in held["meta_mentioned"]:
        found = sample(entry["sample"])
        standin.add_mentioned(found["id"], entry["edge"], found[entry["edge"]])
    for entry in held["meta_profiles"]:
        fields = sample(entry["sample"]) if "sample" in entry else entry["fields"]
        standin.add_meta_object(entry["id"], **fields)
    for entry in held["meta_objects"]:
        standin.add_meta_object(entry["id"], **entry["fields"])
    for name in held["x_users_from"]:
        for user in sample(name)["users"].values():
            standin.add_x_user(user["id"], user["screen_name"], user.get("name"))
    for user in held["x_users"]:
        standin.add_x_user(user["id"], user["username"], user.get("name"))
    for entry in held["x_tweets"]:
        (tweet,) = sample(entry["sample"])["tweet_create_events"]
        text = (tweet.get("extended_tweet") or {}).get("full_text") or tweet["text"]
        standin.add_x_tweet(entry["id"], text, entry.get("author_id"))
    for entry in held["tiktok_orders"]:
        if "sample" in entry:
            for order in sample(entry["sample"])["data"]["orders"]:
                standin.tiktok_orders[order["id"]] = order
        else:
            standin.tiktok_orders[entry["id"]] = tiktok_order(
                entry["id"], status=entry["status"], sku=entry["sku"]
            )
    for entry in held["tiktok_cancellations"]:
        for cancellation in sample(entry["sample"])["data"]["cancellations"]:
            found = {**copy.deepcopy(cancellation), **entry.get("set", {})}
            standin.tiktok_cancellations[found["cancel_id"]] = found
