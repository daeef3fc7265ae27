"""The storefront widget, `<shoppable-post>`: an ES module, the API client it imports, one
stylesheet, and a demo page.

The files in this folder are the widget as published: no build step, no dependencies
(`client.js` and its types, `client.d.ts`, are generated from the OpenAPI document by
`python -m devstack.clients`). They ship
with the API function, which serves them at `/widget/<file>`, and a merchant may as well host
copies next to their own pages; all the widget needs is the API's URL. Each answer carries its
Content-Type, `nosniff`, an ETag and a short public cache lifetime (the URLs are not versioned,
so a fix has to reach browsers within minutes); the route adds CORS, because a page on the
merchant's site fetches a module script from here in CORS mode.

The demo page, `/demo/posts/<post id>`, is the widget alone on a page, given the Stripe
publishable key and Stripe.js URL this stack is configured with. It refers to the widget and
the API by relative URLs, so it works under an API Gateway stage prefix as it does in
`make run`. It shows only what the public storefront route shows.
"""

import hashlib
import html
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from chalice import Response

from ..domain.posts import Post
from ..errors import NotFound

FOLDER = Path(__file__).parent
CONTENT_TYPES = {
    "shoppable.js": "text/javascript; charset=utf-8",
    "client.js": "text/javascript; charset=utf-8",  # the API client shoppable.js imports
    "shoppable.css": "text/css; charset=utf-8",
}
ASSET_CACHE = "public, max-age=300"
TEST_CARDS_NOTE = (
    '<p class="demo-note">Test mode: pay with <kbd>4242 4242 4242 4242</kbd>; '
    "<kbd>4000 0000 0000 0002</kbd> is declined. Any future expiry date and any CVC.</p>"
)


@dataclass(frozen=True)
class Asset:
    body: str
    etag: str


@lru_cache(maxsize=len(CONTENT_TYPES))
def _asset(name: str) -> Asset:
    body = (FOLDER / name).read_text(encoding="utf-8")
    return Asset(body, '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"')


def asset(name: str, if_none_match: str | None) -> Response:
    """`shoppable.js` or `shoppable.css`; 304 when the browser's copy is current."""
    if name not in CONTENT_TYPES:
        raise NotFound(f"No such widget file: '{name}'.", param="file_name")
    found = _asset(name)
    headers: dict[str, str | list[str]] = {
        "Content-Type": CONTENT_TYPES[name],
        "Cache-Control": ASSET_CACHE,
        "ETag": found.etag,
        "X-Content-Type-Options": "nosniff",
    }
    held = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")}
    if found.etag in held or "*" in held:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=found.body, status_code=200, headers=headers)


def demo_page(post: Post, stripe_publishable_key: str, stripe_js_url: str) -> Response:
    """The page for a post the storefront shows (the caller checked it is visible)."""
    page = Template((FOLDER / "demo.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(post.caption or "A shoppable post"),
        post_id=html.escape(post.id),
        stripe_key=html.escape(stripe_publishable_key),
        stripe_js=html.escape(stripe_js_url),
        note=TEST_CARDS_NOTE if stripe_publishable_key.startswith("pk_test_") else "",
    )
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return Response(body=page, status_code=200, headers=headers)
