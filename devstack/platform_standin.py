"""The social platforms' stand-in: one loopback HTTP server that plays Meta's Graph API,
TikTok Shop, Pinterest and X for the endpoints Shoppable calls, and records every request.

Each platform lives under its own prefix (`/meta`, `/tiktok`, `/pinterest`, `/x`), which is
the base URL the app is given (`SHOPPABLE_META_GRAPH_URL=<stand-in>/meta`, …). It answers
with plausible bodies in each platform's shape. Tests read `requests` (method, path, query,
headers, JSON body) to assert the exact calls, queue failures with `fail(...)`, and put
canned orders in `tiktok_orders` and `meta_orders`. `GET /_requests` returns the record as
JSON, so that a developer with `make run` can see the replies the app sent, and the token each
carried. `oauth` (`oauth_standin.py`) plays each platform's consent screen and token, refresh
and revoke endpoints, and refuses API calls without a live token it issued.
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
SAMPLE_X_USER = {"id": "2244994945", "username": "buyer_on_x"}


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
    meta_orders: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Any = field(default_factory=lambda: itertools.count(17990000000000100))


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

    @property
    def tiktok_orders(self) -> dict[str, dict]:
        return self.state.tiktok_orders

    @property
    def meta_orders(self) -> list[dict]:
        return self.state.meta_orders

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
        with self.state.lock:
            self.state.requests.clear()
            self.state.failures.clear()
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


def _meta(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    segments = r.path.strip("/").split("/")
    if r.method == "GET" and segments[-1] == "commerce_orders":
        state_filter = r.query.get("state")
        orders = [o for o in state.meta_orders
                  if not state_filter or o["order_status"]["state"] == state_filter]  # fmt: skip
        return 200, {"data": orders, "paging": {}}
    if r.method == "GET" and len(segments) == 1:
        return 200, {"id": segments[0], "from": SAMPLE_COMMENTER}
    action = segments[-1] if len(segments) == 2 else ""
    if r.method == "POST" and action == "acknowledge_order":
        for order in state.meta_orders:
            if order["id"] == segments[0]:
                order["order_status"]["state"] = "IN_PROGRESS"
        return 200, {"success": True}
    if r.method == "POST" and action == "messages":
        return 200, {"recipient_id": SAMPLE_COMMENTER["id"], "message_id": f"m_{next_id}"}
    if r.method == "POST" and action == "media":
        return 200, {"id": f"container{next_id}"}
    if r.method == "POST" and action in ("media_publish", "replies"):
        return 200, {"id": next_id}
    if r.method == "POST" and action == "photos":
        return 200, {"id": next_id, "post_id": f"{segments[0]}_{next_id}"}
    return _not_found(state, r, next_id)


def _tiktok(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    if r.method == "GET" and r.path == "/order/202309/orders":
        ids = r.query.get("ids", "").split(",")
        orders = [state.tiktok_orders.get(i) or tiktok_order(i) for i in ids if i]
        return 200, {"code": 0, "message": "Success", "data": {"orders": orders}}
    if r.method == "POST" and r.path == "/product/202309/products":
        skus = [{"id": f"{next_id}{n}", "seller_sku": s.get("seller_sku")}
                for n, s in enumerate((r.body or {}).get("skus", []))]  # fmt: skip
        return 200, {"code": 0, "message": "Success", "data": {"product_id": next_id,
                                                                "skus": skus}}  # fmt: skip
    return _not_found(state, r, next_id)


def _pinterest(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    if r.method == "POST" and r.path == "/v5/catalogs/items/batch":
        return 200, {"batch_id": f"batch{next_id}", "status": "PROCESSING"}
    if r.method == "POST" and r.path == "/v5/pins":
        return 201, {"id": next_id, **(r.body or {})}
    return _not_found(state, r, next_id)


def _x(state: _State, r: Recorded, next_id: str) -> tuple[int, Any]:
    match = re.fullmatch(r"/2/tweets/(\d+)", r.path)
    if r.method == "GET" and match:
        tweet = {"id": match[1], "author_id": SAMPLE_X_USER["id"], "text": "…"}
        return 200, {"data": tweet, "includes": {"users": [SAMPLE_X_USER]}}
    if r.method == "POST" and r.path == "/2/tweets":
        return 201, {"data": {"id": next_id, "text": (r.body or {}).get("text", "")}}
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
