"""The social platforms' stand-in: one loopback HTTP server that plays Meta's Graph API,
TikTok Shop, Pinterest and X for the endpoints Shoppable calls, and records every request.

Each platform lives under its own prefix (`/meta`, `/tiktok`, `/pinterest`, `/x`), which is
the base URL the app is given (`SHOPPABLE_META_GRAPH_URL=<stand-in>/meta`, …). It answers per
object, from data seeded into it or created through it, in each platform's documented shape,
and with each platform's documented error shape for an object it does not hold:

- Meta: objects (comments, posts, media, profiles) by id, read with the Graph API's field
  selection (`fields=from{id,username},text`); an account's `mentioned_comment` and
  `mentioned_media` field expansions; Shops orders. Unknown objects answer Graph's error
  `{"error": {"message", "type": "GraphMethodException", "code": 100, "error_subcode": 33,
  "fbtrace_id"}}` (HTTP 400); a profile seeded without consent answers code 230 "User consent
  is required to access user profile" (the code is reported by third parties; Meta's page
  gives only the message).
- TikTok Shop: orders by id (Get Order Detail leaves out ids it does not hold), cancellations
  (a seller's cancel, a buyer's request approved or rejected: each moves the order as TikTok
  does), answered `{"code", "message", "request_id", "data"}`; refusals are a non-zero `code`
  in a 200 (codes as TikTok's guides list them: 25011012 cannot approve, 25011011 cannot
  reject, 25020005 no permission, 25001014 bad reason).
- X: posts and users by id; a missing one is X's 200 with `errors` and no `data`.

Tests read `requests` (method, path, query, headers, JSON body) to assert the exact calls,
queue failures with `fail(...)`, and seed objects (`tiktok_orders`, `meta_orders`,
`add_meta_object`, `add_x_user`, …). `GET /_requests` returns the record as JSON, so that a
developer with `make run` can see the replies the app sent, and the token each carried.
`oauth` (`oauth_standin.py`) plays each platform's consent screen and token, refresh and
revoke endpoints, and refuses API calls without a live token it issued.
"""

import itertools
import json
import re
import threading
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .loopback import LOOPBACK
from .oauth_standin import OAuthStandin

# The sample deliveries' people and objects (events/), so that `send-event` finds them.
SAMPLE_COMMENTER = {"id": "6950000000000000", "username": "buyer1"}
SAMPLE_X_USER = {"id": "2244994945", "username": "buyer_on_x", "name": "Buyer on X"}


@dataclass
class Recorded:
    platform: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Failure:
    platform: str
    path: str  # a regular expression matched against the path
    status: int
    body: dict
    times: int


def tiktok_order(
    order_id: str,
    status: str = "AWAITING_SHIPMENT",
    sku: str = "LINEN-S",
    quantity: int = 1,
    price: str = "49.00",
    currency: str = "EUR",
) -> dict:
    """An order as TikTok's Get Order Detail (202309) answers it: one line item per unit."""
    return {
        "id": order_id,
        "status": status,
        "payment": {"currency": currency, "sub_total": price, "total_amount": price},
        "buyer_email": "v2x8a1b2c3@scs.tiktokw.us",
        "line_items": [
            {"id": f"{order_id}{n}", "seller_sku": sku, "sale_price": price, "product_name": sku}
            for n in range(quantity)
        ],
        "recipient_address": {
            "name": "Ada Buyer",
            "phone_number": "(+33)6*****78",
            "address_line1": "3 rue du Bac",
            "postal_code": "75007",
            "region_code": "FR",
            "district_info": [
                {"address_level_name": "Country", "address_name": "France"},
                {"address_level_name": "City", "address_name": "Paris"},
            ],
        },
    }


def meta_order(
    order_id: str,
    sku: str = "LINEN-S",
    quantity: int = 1,
    amount: str = "49.00",
    currency: str = "EUR",
    state: str = "CREATED",
) -> dict:
    """An order as `GET /{cms-id}/commerce_orders` lists it."""
    return {
        "id": order_id,
        "order_status": {"state": state},
        "created": "2026-11-01T10:00:00+00:00",
        "channel": "instagram",
        "buyer_details": {"name": "Bo Buyer", "email": "bo.buyer@example.com"},
        "shipping_address": {
            "name": "Bo Buyer",
            "street1": "1 Market St",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94105",
            "country": "US",
        },
        "items": {
            "data": [
                {
                    "id": f"{order_id}1",
                    "retailer_id": sku,
                    "quantity": quantity,
                    "price_per_unit": {"amount": amount, "currency": currency},
                }
            ]
        },
    }


@dataclass
class _State:
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    tiktok_orders: dict[str, dict] = field(default_factory=dict)
    tiktok_cancellations: dict[str, dict] = field(default_factory=dict)
    tiktok_answered: dict[str, dict] = field(default_factory=dict)  # idempotency key -> answer
    meta_orders: list[dict] = field(default_factory=list)
    meta_objects: dict[str, dict] = field(default_factory=dict)
    meta_refusals: dict[str, tuple[int, dict]] = field(default_factory=dict)
    meta_mentioned: dict[tuple[str, str, str], dict] = field(default_factory=dict)
    x_tweets: dict[str, dict] = field(default_factory=dict)
    x_users: dict[str, dict] = field(default_factory=dict)
    # catalogs: TikTok products by id, Meta items by (catalog, retailer id), Pinterest items
    # by item id; each batch's outcome by its handle; items a platform refuses, with why
    tiktok_products: dict[str, dict] = field(default_factory=dict)
    meta_items: dict[tuple[str, str], dict] = field(default_factory=dict)
    pinterest_items: dict[str, dict] = field(default_factory=dict)
    batches: dict[str, dict] = field(default_factory=dict)
    refused_items: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Any = field(default_factory=lambda: itertools.count(17990000000000100))

    def clear(self) -> None:
        for store in (self.requests, self.failures, self.meta_orders):
            store.clear()
        for table in (self.tiktok_orders, self.tiktok_cancellations, self.tiktok_answered,
                      self.meta_objects, self.meta_refusals, self.meta_mentioned,
                      self.x_tweets, self.x_users, self.tiktok_products, self.meta_items,
                      self.pinterest_items, self.batches, self.refused_items):  # fmt: skip
            table.clear()


class PlatformStandin:
    def __init__(self, port: int = 0):
        self.state = _State()
        self.oauth = OAuthStandin()
        state = self.state

        class Handler(_Handler):
            pass

        Handler.state = state
        Handler.oauth = self.oauth
        self._server = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="platform-standin", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def base_urls(self) -> dict[str, str]:
        """Environment variable -> the platform's base URL here."""
        return {
            "SHOPPABLE_META_GRAPH_URL": f"{self.url}/meta",
            "SHOPPABLE_TIKTOK_API_URL": f"{self.url}/tiktok",
            "SHOPPABLE_PINTEREST_API_URL": f"{self.url}/pinterest",
            "SHOPPABLE_X_API_URL": f"{self.url}/x",
            **self.oauth.base_urls(self.url),
        }

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def calls(self, platform: str, method: str | None = None, path: str | None = None):
        return [
            r
            for r in self.requests
            if r.platform == platform
            and (method is None or r.method == method)
            and (path is None or re.fullmatch(path, r.path))
        ]

    # Seeding per object

    @property
    def tiktok_orders(self) -> dict[str, dict]:
        """Order id -> the order as Get Order Detail answers it (see `tiktok_order`)."""
        return self.state.tiktok_orders

    @property
    def tiktok_cancellations(self) -> dict[str, dict]:
        """Cancel id -> the cancellation as Search Cancellations lists it."""
        return self.state.tiktok_cancellations

    @property
    def meta_orders(self) -> list[dict]:
        return self.state.meta_orders

    def add_meta_object(self, object_id: str, **fields: Any) -> None:
        """A Graph object (a comment, a post, a media, a profile) read by `GET /{id}`."""
        with self.state.lock:
            self.state.meta_objects[str(object_id)] = {"id": str(object_id), **fields}

    def refuse_meta_object(self, object_id: str, code: int, message: str, status: int = 400):
        """Reading `object_id` answers this Graph error (a profile without consent: 230)."""
        error = {"message": message, "type": "OAuthException", "code": code,
                 "fbtrace_id": "AStandInTrace"}  # fmt: skip
        with self.state.lock:
            self.state.meta_refusals[str(object_id)] = (status, {"error": error})

    def add_mentioned(self, ig_user_id: str, edge: str, mentioned: dict) -> None:
        """`edge` is `mentioned_comment` (keyed by the comment id) or `mentioned_media` (by
        the media id): what the account's field expansion answers."""
        key = (str(ig_user_id), edge, str(mentioned["id"]))
        with self.state.lock:
            self.state.meta_mentioned[key] = mentioned

    def add_x_user(self, user_id: str, username: str, name: str | None = None) -> None:
        with self.state.lock:
            self.state.x_users[str(user_id)] = {"id": str(user_id), "name": name or username,
                                                "username": username}  # fmt: skip

    def add_x_tweet(self, tweet_id: str, text: str, author_id: str | None = None) -> None:
        tweet = {"id": str(tweet_id), "text": text}
        if author_id:
            tweet["author_id"] = str(author_id)
        with self.state.lock:
            self.state.x_tweets[str(tweet_id)] = tweet

    # The platforms' catalogs, as their own APIs would show them

    def tiktok_stock(self, seller_sku: str) -> int | None:
        """The quantity TikTok Shop holds for the SKU (summed over warehouses)."""
        with self.state.lock:
            for product in self.state.tiktok_products.values():
                for sku in product["skus"]:
                    if sku["seller_sku"] == seller_sku:
                        return sum(int(i.get("quantity", 0)) for i in sku["inventory"])
        return None

    def meta_item(self, catalog_id: str, retailer_id: str) -> dict | None:
        with self.state.lock:
            return self.state.meta_items.get((str(catalog_id), retailer_id))

    def pinterest_item(self, item_id: str) -> dict | None:
        with self.state.lock:
            return self.state.pinterest_items.get(item_id)

    def drift(self, platform: str, item_id: str, **changes: Any) -> None:
        """Change an item as a merchant could in the platform's own seller tools: TikTok's
        SKU (by seller SKU: `quantity`), Meta's or Pinterest's item (attributes)."""
        with self.state.lock:
            if platform == "tiktok":
                for product in self.state.tiktok_products.values():
                    for sku in product["skus"]:
                        if sku["seller_sku"] == item_id:
                            sku["inventory"] = [{"warehouse_id": DEFAULT_WAREHOUSE,
                                                 "quantity": changes["quantity"]}]  # fmt: skip
            elif platform == "meta":
                for (_, retailer), item in self.state.meta_items.items():
                    if retailer == item_id:
                        item.update(changes)
            else:
                self.state.pinterest_items[item_id].update(changes)

    def refuse_item(self, platform: str, item_id: str, message: str) -> None:
        """The platform's batch refuses the item (Meta's retailer id, Pinterest's item id)
        with this message, as a per-item error."""
        with self.state.lock:
            self.state.refused_items[(platform, item_id)] = message

    def seed_samples(self) -> None:
        """The objects that the sample deliveries of events/ refer to."""
        self.add_meta_object(
            "17890000000000001", text="price?", **{"from": SAMPLE_COMMENTER},
            username=SAMPLE_COMMENTER["username"],
        )  # fmt: skip
        self.add_mentioned(
            SAMPLE_ACCOUNTS["instagram"], "mentioned_comment",
            {"id": "17890000000000011", "text": "Loving this look @demoshop",
             "timestamp": "2024-05-29T16:28:20+0000"},
        )  # fmt: skip
        self.add_meta_object(SAMPLE_COMMENTER["id"], name="Buyer One",
                             username=SAMPLE_COMMENTER["username"])  # fmt: skip
        self.add_x_user(SAMPLE_X_USER["id"], SAMPLE_X_USER["username"], SAMPLE_X_USER["name"])
        self.add_x_tweet("1460323737035677699", "@demoshop how much is the linen shirt?",
                         SAMPLE_X_USER["id"])  # fmt: skip
        self.tiktok_orders["576684019603311365"] = tiktok_order("576684019603311365")

    def fail(
        self,
        platform: str,
        path: str,
        status: int = 500,
        message: str = "Unavailable",
        times: int = 1_000_000,
    ) -> None:
        body = {"error": {"message": message, "type": "OAuthException", "code": 2}}
        with self.state.lock:
            self.state.failures.append(Failure(platform, path, status, body, times))

    def reset(self) -> None:
        """Forget every request, failure and object."""
        with self.state.lock:
            self.state.clear()
        self.oauth.reset()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    state: _State
    oauth: OAuthStandin
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the record is the log

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path == "/_requests":
            self._answer(200, [asdict(r) for r in self.state.requests])
            return
        platform, _, path = parts.path.lstrip("/").partition("/")
        path = "/" + path
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            body = dict(parse_qsl(raw.decode(errors="replace")))
        recorded = Recorded(
            platform, method, path, dict(parse_qsl(parts.query)),
            {k.lower(): v for k, v in self.headers.items()}, body,
        )  # fmt: skip
        with self.state.lock:
            self.state.requests.append(recorded)
            failure = next(
                (f for f in self.state.failures
                 if f.platform == platform and f.times > 0 and re.search(f.path, path)),
                None,
            )  # fmt: skip
            if failure is not None:
                failure.times -= 1
            next_id = str(next(self.state.ids))
        if failure is not None:
            self._answer(failure.status, failure.body)
            return
        oauth = self.oauth.answer(
            platform, method, path, recorded.query, recorded.headers, recorded.body
        )
        if oauth is not None:
            self._answer(*oauth)
            return
        with self.state.lock:  # one request at a time changes the platform's objects
            answer = _ANSWERS.get(platform, _not_found)(self.state, recorded, next_id)
        self._answer(*answer)

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _not_found(state: _State, r: Recorded, next_id: str) -> tuple[int, dict]:
    return 404, {"error": {"message": f"no such endpoint {r.method} {r.path}"}}


# Meta's Graph API


def parse_fields(expression: str) -> dict[str, Any]:
    """Graph's field selection, `a,b{c,d{e}},f` -> {"a": {}, "b": {"c": {}, "d": {"e": {}}},
    "f": {}}; a field's `.modifier(…)` is kept in its name."""
    fields: dict[str, Any] = {}
    stack = [fields]
    name = ""
    depth = 0  # inside a modifier's parentheses
    for char in expression:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if depth or char in "()":
            name += char
            continue
        if char in ",{}":
            if name.strip():
                stack[-1][name.strip()] = {}
            if char == "{":
                stack.append(stack[-1][name.strip()])
            elif char == "}":
                stack.pop()
            name = ""
        else:
            name += char
    if name.strip():
        stack[-1][name.strip()] = {}
    return fields


def select(found: dict, fields: dict[str, Any]) -> dict:
    """The fields asked for, those the object has (nested selections applied)."""
    chosen = {}
    for name, nested in fields.items():
        if name not in found:
            continue
        value = found[name]
        chosen[name] = select(value, nested) if nested and isinstance(value, dict) else value
    return chosen


def _graph_error(object_id: str) -> tuple[int, dict]:
    return 400, {
        "error": {
            "message": f"Unsupported get request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation. "
            "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
            "fbtrace_id": "AStandInTrace",
        }
    }


_MENTIONED = re.compile(r"^(mentioned_comment|mentioned_media)\.(?:comment_id|media_id)\((\w+)\)$")
_MENTIONED_DEFAULTS = {
    "mentioned_comment": {"id": {}, "text": {}, "timestamp": {}},
    "mentioned_media": {"id": {}},
}


def _meta_read(state: _State, object_id: str, query: dict[str, str]) -> tuple[int, Any]:
    if object_id in state.meta_refusals:
        return state.meta_refusals[object_id]
    fields = parse_fields(query.get("fields", ""))
    for name, nested in fields.items():
        match = _MENTIONED.match(name)
        if match:
            edge, wanted = match[1], match[2]
            mentioned = state.meta_mentioned.get((object_id, edge, wanted))
            if mentioned is None:
                return _graph_error(wanted)
            return 200, {edge: select(mentioned, nested or _MENTIONED_DEFAULTS[edge]),
                         "id": object_id}  # fmt: skip
    found = state.meta_objects.get(object_id)
    if found is None:
        return _graph_error(object_id)
    return 200, {**select(found, fields), "id": object_id}


def _meta_catalog(state: _State, r: Recorded, catalog_id: str, edge: str, next_id: str):
    """Catalog Batch API: `items_batch` applies its requests at once (allow_upsert) and
    answers a handle; `check_batch_request_status` answers the batch's status with each
    refused item's error; `products` lists items filtered on retailer id."""
    if r.method == "POST" and edge == "items_batch":
        body = r.body or {}
        requests = body.get("requests")
        if isinstance(requests, str):
            requests = json.loads(requests)
        if body.get("item_type") != "PRODUCT_ITEM" or not isinstance(requests, list):
            return 400, {"error": {"message": "(#100) Param requests must be an array",
                                   "type": "OAuthException", "code": 100}}  # fmt: skip
        errors = []
        for line, request in enumerate(requests):
            data = request.get("data") or {}
            retailer_id = str(data.get("id"))
            refused = state.refused_items.get(("meta", retailer_id))
            if refused:
                errors.append({"line": line, "id": retailer_id, "message": refused})
                continue
            key = (catalog_id, retailer_id)
            if request.get("method") == "DELETE":
                state.meta_items.pop(key, None)
                continue
            item = state.meta_items.setdefault(
                key, {"id": f"{next_id}{line}", "retailer_id": retailer_id,
                      "review_status": "approved"},
            )  # fmt: skip
            item.update({k: v for k, v in data.items() if k != "id"})
        handle = f"AcHandle{next_id}"
        state.batches[handle] = {"handle": handle, "status": "finished",
                                 "errors_total_count": len(errors), "errors": errors,
                                 "warnings_total_count": 0, "warnings": []}  # fmt: skip
        return 200, {"handles": [handle]}
    if r.method == "GET" and edge == "check_batch_request_status":
        batch = state.batches.get(r.query.get("handle", ""))
        if batch is None:
            return _graph_error(r.query.get("handle", ""))
        return 200, {"data": [batch]}
    if r.method == "GET" and edge == "products":
        wanted = (json.loads(r.query.get("filter") or "{}").get("retailer_id") or {}).get("is_any")
        fields = (r.query.get("fields") or "id").split(",")
        found = [{"id": i["id"], **{f: i[f] for f in fields if f in i}}
                 for (catalog, retailer), i in state.meta_items.items()
                 if catalog == catalog_id and (wanted is None or retailer in wanted)]  # fmt: skip
        return 200, {"data": found, "paging": {}}
    return _not_found(state, r, next_id)


def _meta(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    segments = r.path.strip("/").split("/")
    if len(segments) == 2 and segments[1] in ("items_batch", "check_batch_request_status",
                                               "products"):  # fmt: skip
        return _meta_catalog(state, r, segments[0], segments[1], next_id)
    if r.method == "GET" and segments[-1] == "commerce_orders":
        state_filter = r.query.get("state")
        orders = [o for o in state.meta_orders
                  if not state_filter or o["order_status"]["state"] == state_filter]  # fmt: skip
        return 200, {"data": orders, "paging": {}}
    if r.method == "GET" and len(segments) == 1:
        return _meta_read(state, segments[0], r.query)
    action = segments[-1] if len(segments) == 2 else ""
    if r.method == "POST" and action == "acknowledge_order":
        for order in state.meta_orders:
            if order["id"] == segments[0]:
                order["order_status"]["state"] = "IN_PROGRESS"
        return 200, {"success": True}
    if r.method == "POST" and action == "messages":
        recipient = (r.body or {}).get("recipient") or {}
        comment = state.meta_objects.get(str(recipient.get("comment_id")), {})
        sender = (comment.get("from") or {}).get("id") or recipient.get("id") or "0"
        return 200, {"recipient_id": sender, "message_id": f"m_{next_id}"}
    if r.method == "POST" and action == "media":
        return 200, {"id": f"container{next_id}"}
    if r.method == "POST" and action in ("media_publish", "replies"):
        return 200, {"id": next_id}
    if r.method == "POST" and action == "photos":
        return 200, {"id": next_id, "post_id": f"{segments[0]}_{next_id}"}
    return _not_found(state, r, next_id)


# TikTok Shop


def _tiktok_ok(data: Any) -> tuple[int, dict]:
    return 200, {"code": 0, "message": "Success", "request_id": "202603070749000101890810281E8C",
                 "data": data}  # fmt: skip


def _tiktok_refused(code: int, message: str) -> tuple[int, dict]:
    return 200, {"code": code, "message": message, "request_id": "202603070749000101890810281E8C",
                 "data": {}}  # fmt: skip


_CANCELLATION = re.compile(r"^/return_refund/202309/cancellations/(\w+)/(approve|reject)$")


def _tiktok(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    if r.method == "GET" and r.path == "/order/202309/orders":
        ids = r.query.get("ids", "").split(",")
        return _tiktok_ok({"orders": [state.tiktok_orders[i] for i in ids
                                      if i in state.tiktok_orders]})  # fmt: skip
    if r.method == "POST" and r.path == "/product/202309/products":
        skus = [{"id": f"{next_id}{n}", "seller_sku": s.get("seller_sku"),
                 "price": s.get("price"),
                 "inventory": [{"warehouse_id": i.get("warehouse_id") or DEFAULT_WAREHOUSE,
                                "quantity": int(i.get("quantity", 0))}
                               for i in s.get("inventory") or []]}
                for n, s in enumerate((r.body or {}).get("skus", []))]  # fmt: skip
        state.tiktok_products[next_id] = {"id": next_id, "title": (r.body or {}).get("title"),
                                          "skus": skus}  # fmt: skip
        answered = [{"id": s["id"], "seller_sku": s["seller_sku"]} for s in skus]
        return _tiktok_ok({"product_id": next_id, "skus": answered, "warnings": []})
    read = re.fullmatch(r"/product/202309/products/(\w+)", r.path)
    if r.method == "GET" and read:
        product = state.tiktok_products.get(read[1])
        if product is None:
            return _tiktok_refused(12052048, "The product does not exist.")
        return _tiktok_ok(product)
    product_match = _PRODUCT.match(r.path)
    if r.method == "POST" and product_match:
        return _tiktok_product(state, product_match[1], product_match[2], r.body or {})
    if r.method == "POST" and r.path == "/return_refund/202309/cancellations":
        return _seller_cancels(state, r.body or {}, next_id)
    if r.method == "POST" and r.path == "/return_refund/202309/cancellations/search":
        wanted = set((r.body or {}).get("order_ids") or [])
        found = [c for c in state.tiktok_cancellations.values()
                 if not wanted or c["order_id"] in wanted]  # fmt: skip
        return _tiktok_ok({"cancellations": found, "total_count": len(found)})
    match = _CANCELLATION.match(r.path)
    if r.method == "POST" and match:
        return _answer_request(state, match[1], match[2], r)
    return _not_found(state, r, next_id)


_PRODUCT = re.compile(r"^/product/202309/products/(\w+)/(inventory/update|partial_edit)$")
DEFAULT_WAREHOUSE = "7000000000000000001"


def _tiktok_product(state: _State, product_id: str, action: str, body: dict):
    """Update Inventory sets each named SKU's quantity per warehouse (the shop's default
    one when none is named); Partial Edit changes the title and SKU prices."""
    product = state.tiktok_products.get(product_id)
    if product is None:
        return _tiktok_refused(12052048, "The product does not exist.")
    skus = {s["id"]: s for s in product["skus"]}
    for change in body.get("skus") or []:
        if str(change.get("id")) not in skus:
            return _tiktok_refused(12052022, f"SKU {change.get('id')} does not exist.")
    if action == "partial_edit":
        product["title"] = body.get("title", product["title"])
        for change in body.get("skus") or []:
            if change.get("price"):
                skus[str(change["id"])]["price"] = change["price"]
        return _tiktok_ok(
            {
                "product_id": product_id,
                "skus": [{"id": s["id"], "seller_sku": s["seller_sku"]} for s in product["skus"]],
            }
        )
    for change in body.get("skus") or []:
        sku = skus[str(change["id"])]
        for place in change.get("inventory") or []:
            warehouse = place.get("warehouse_id") or DEFAULT_WAREHOUSE
            held = next((i for i in sku["inventory"] if i["warehouse_id"] == warehouse), None)
            if held is None:
                sku["inventory"].append({"warehouse_id": warehouse, "quantity": 0})
                held = sku["inventory"][-1]
            held["quantity"] = int(place.get("quantity", 0))
    return _tiktok_ok({})


def _seller_cancels(state: _State, body: dict, next_id: str) -> tuple[int, dict]:
    order = state.tiktok_orders.get(str(body.get("order_id")))
    if order is None:
        return _tiktok_refused(25020005, "No permission to operate on this order.")
    if not body.get("cancel_reason"):
        return _tiktok_refused(25001014, "Invalid cancel reason.")
    if order["status"] in ("CANCELLED", "IN_TRANSIT", "DELIVERED", "COMPLETED"):
        return _tiktok_refused(25001011, "The order is cancelled or cancelling already.")
    order["status"] = "CANCELLED"
    state.tiktok_cancellations[next_id] = {
        "cancel_id": next_id, "order_id": order["id"], "role": "SELLER",
        "cancel_status": "CANCELLATION_REQUEST_SUCCESS", "cancel_reason": body["cancel_reason"],
    }  # fmt: skip
    return _tiktok_ok({"cancel_id": next_id, "cancel_status": "CANCELLATION_REQUEST_SUCCESS"})


def _answer_request(state: _State, cancel_id: str, answer: str, r: Recorded) -> tuple[int, dict]:
    """A buyer's pending request approved (the order is cancelled) or rejected; the same
    `idempotency_key` answers the same again."""
    key = r.query.get("idempotency_key")
    if key and key in state.tiktok_answered:
        return state.tiktok_answered[key]["answer"]
    cancellation = state.tiktok_cancellations.get(cancel_id)
    if cancellation is None:
        return _tiktok_refused(25020005, "No permission to operate on this cancellation.")
    if cancellation["cancel_status"] != "CANCELLATION_REQUEST_PENDING":
        code = 25011012 if answer == "approve" else 25011011
        return _tiktok_refused(code, f"The cancellation's status does not allow to {answer}.")
    if answer == "reject" and not (r.body or {}).get("reject_reason"):
        return _tiktok_refused(25001014, "Invalid reject reason.")
    if answer == "approve":
        cancellation["cancel_status"] = "CANCELLATION_REQUEST_SUCCESS"
        order = state.tiktok_orders.get(cancellation["order_id"])
        if order is not None:
            order["status"] = "CANCELLED"
    else:
        cancellation["cancel_status"] = "CANCELLATION_REQUEST_CANCELLED"
        cancellation["reject_reason"] = r.body["reject_reason"]
    outcome = _tiktok_ok({})
    if key:
        state.tiktok_answered[key] = {"answer": outcome}
    return outcome


def _pinterest_batch(state: _State, body: dict, next_id: str) -> tuple[int, Any]:
    """Applied at once; its record (`GET …/batch/{id}`) says COMPLETED with each item's
    SUCCESS or FAILURE and errors. UPDATE changes the attributes `update_mask` names (all
    given, without one) of an item that exists; UPSERT replaces or creates it."""
    operation = body.get("operation")
    if operation not in ("UPSERT", "UPDATE", "DELETE", "CREATE"):
        return 400, {"code": 1, "message": "Invalid request: operation"}
    records = []
    for item in body.get("items") or []:
        item_id = str(item.get("item_id"))
        refused = state.refused_items.get(("pinterest", item_id))
        current = state.pinterest_items.get(item_id)
        errors = []
        if refused:
            errors = [{"attribute": "item_id", "code": 100, "message": refused}]
        elif operation == "DELETE":
            state.pinterest_items.pop(item_id, None)
        elif operation == "UPDATE" and current is None:
            errors = [{"attribute": "item_id", "code": 3, "message": "Item not found"}]
        elif operation == "UPDATE":
            attributes = item.get("attributes") or {}
            mask = item.get("update_mask") or list(attributes)
            current.update({k: attributes[k] for k in mask if k in attributes})
        else:
            state.pinterest_items[item_id] = {"item_id": item_id, **(item.get("attributes") or {})}
        records.append({"item_id": item_id, "status": "FAILURE" if errors else "SUCCESS",
                        "errors": errors, "warnings": []})  # fmt: skip
    batch_id = f"batch{next_id}"
    state.batches[batch_id] = {"batch_id": batch_id, "status": "COMPLETED", "items": records,
                               "created_time": "2026-11-30T00:00:00",
                               "completed_time": "2026-11-30T00:00:01"}  # fmt: skip
    return 200, {"batch_id": batch_id, "status": "PROCESSING", "items": [],
                 "created_time": "2026-11-30T00:00:00", "completed_time": None}  # fmt: skip


def _pinterest(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    if r.method == "POST" and r.path == "/v5/catalogs/items/batch":
        return _pinterest_batch(state, r.body or {}, next_id)
    if r.method == "GET" and r.path == "/v5/catalogs/items":
        wanted = r.query.get("item_ids", "").split(",")
        items = [{"catalog_type": "RETAIL", "item_id": i,
                  "attributes": {k: v for k, v in state.pinterest_items[i].items()
                                 if k != "item_id"}}
                 for i in wanted if i in state.pinterest_items]  # fmt: skip
        return 200, {"items": items}
    batch_match = re.fullmatch(r"/v5/catalogs/items/batch/(\w+)", r.path)
    if r.method == "GET" and batch_match:
        batch = state.batches.get(batch_match[1])
        if batch is None:
            return 404, {"code": 4180, "message": "Catalogs items batch not found."}
        return 200, batch
    if r.method == "POST" and r.path == "/v5/pins":
        return 201, {"id": next_id, **(r.body or {})}
    return _not_found(state, r, next_id)


# X's API v2


def _x_missing(kind: str, object_id: str) -> tuple[int, dict]:
    """X answers a lookup of a missing object with a 200, `errors` and no `data`."""
    return 200, {
        "errors": [
            {
                "value": object_id,
                "detail": f"Could not find {kind} with id: [{object_id}].",
                "title": "Not Found Error",
                "resource_type": kind,
                "parameter": "id",
                "resource_id": object_id,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }


def _x(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    tweet_match = re.fullmatch(r"/2/tweets/(\d+)", r.path)
    if r.method == "GET" and tweet_match:
        tweet = state.x_tweets.get(tweet_match[1])
        if tweet is None:
            return _x_missing("tweet", tweet_match[1])
        answer: dict[str, Any] = {"data": tweet}
        author = state.x_users.get(tweet.get("author_id", ""))
        if "author_id" in r.query.get("expansions", "") and author is not None:
            answer["includes"] = {"users": [author]}
        return 200, answer
    user_match = re.fullmatch(r"/2/users/(\d+)", r.path)
    if r.method == "GET" and user_match:
        user = state.x_users.get(user_match[1])
        return (200, {"data": user}) if user else _x_missing("user", user_match[1])
    if r.method == "POST" and r.path == "/2/tweets":
        text = (r.body or {}).get("text", "")
        state.x_tweets[next_id] = {"id": next_id, "text": text}
        return 201, {"data": {"id": next_id, "text": text}}
    return _not_found(state, r, next_id)


_ANSWERS = {"meta": _meta, "tiktok": _tiktok, "pinterest": _pinterest, "x": _x}


# The sample deliveries' accounts (events/), which the OAuth stand-in grants by default so
# that `make run` connects them to the demo shop, and the demo post as if already published
# as the samples' Instagram media and X post.
SAMPLE_ACCOUNTS = {
    "instagram": "17841400000000000",
    "tiktok": "7494726673780148744",
    "x": "2244994945000",
}
SAMPLE_MEDIA = {"instagram": "17990000000000002", "x": "1460323737035677698"}
