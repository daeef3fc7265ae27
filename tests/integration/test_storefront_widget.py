"""The storefront widget's files and the demo page, as the API function serves them.

The widget's behaviour is tested in a real browser (tests/browser); these pin what the routes
answer: content types, caching, CORS, nothing served but the widget's two files, and a demo page
only for posts the storefront shows, with everything it is given escaped."""

import pytest

from chalicelib.config import get_settings
from tests.fixtures.app import post_body


@pytest.fixture
def stripe_for_demo(monkeypatch):
    monkeypatch.setenv("SHOPPABLE_STRIPE_PUBLISHABLE_KEY", "pk_test_widget")
    monkeypatch.setenv("SHOPPABLE_STRIPE_JS_URL", "https://js.stripe.com/v3/")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def fetch(api, path, **headers):
    """A GET whose answer need not be JSON."""
    return api.client.http.get(path, headers=headers)


def create_post(api, merchant, product, **overrides):
    created = api.post("/v1/posts", post_body(product, **overrides), key=merchant.secret)
    assert created.status_code == 201, created.body
    return created.json


@pytest.mark.parametrize(
    ("name", "content_type", "starts"),
    [
        ("shoppable.js", "text/javascript; charset=utf-8", b"/**"),
        ("shoppable.css", "text/css; charset=utf-8", b"/*"),
    ],
)
def test_the_widget_files_are_served_cacheable_and_cross_origin(api, name, content_type, starts):
    served = fetch(api, f"/widget/{name}", Origin="https://shop.example.com")

    assert served.status_code == 200
    assert served.body.startswith(starts)
    assert served.headers["Content-Type"] == content_type
    assert served.headers["Cache-Control"] == "public, max-age=300"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    # A module script from another origin is fetched in CORS mode.
    assert served.headers["Access-Control-Allow-Origin"] == "*"

    again = fetch(api, f"/widget/{name}", **{"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    assert again.body == b""
    assert again.headers["ETag"] == served.headers["ETag"]


@pytest.mark.parametrize(
    "name", ["demo.html", "__init__.py", "..%2F..%2Fapp.py", "shoppable.JS", "shoppable.js.map"]
)
def test_nothing_but_the_two_files_is_served(api, name):
    refused = api.get(f"/widget/{name}")

    assert refused.status_code == 404
    assert refused.json["error"]["type"] == "not_found"


def test_the_demo_page_shows_the_post_with_the_stacks_stripe_settings(
    stripe_for_demo, api, merchant, product
):
    post = create_post(api, merchant, product)

    page = fetch(api, f"/demo/posts/{post['id']}")

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-store"
    html = page.body.decode()
    assert f'post="{post["id"]}"' in html
    assert 'stripe-key="pk_test_widget"' in html
    assert 'stripe-js="https://js.stripe.com/v3/"' in html
    # Relative to the page, so the same page works under an API Gateway stage prefix.
    assert 'src="../../widget/shoppable.js"' in html and 'api="../../"' in html
    assert "4242 4242 4242 4242" in html  # a test key: the test cards are shown


def test_the_demo_page_escapes_what_it_is_given(stripe_for_demo, api, merchant, product):
    post = create_post(api, merchant, product, caption='</title><script>alert("x")</script>')

    html = fetch(api, f"/demo/posts/{post['id']}").body.decode()

    assert "<script>alert" not in html
    assert "&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)" in html


def test_no_demo_page_for_a_post_shoppers_cannot_see(api, merchant, product):
    draft = create_post(api, merchant, product, status="draft")

    for post_id in (draft["id"], "post_doesnotexist", "<script>"):
        refused = api.get(f"/demo/posts/{post_id}")
        assert refused.status_code == 404, post_id
        assert refused.headers["Content-Type"] == "application/json"


def test_without_a_test_key_no_test_cards_are_offered(api, merchant, product):
    post = create_post(api, merchant, product)

    html = fetch(api, f"/demo/posts/{post['id']}").body.decode()

    assert 'stripe-key=""' in html  # not configured: the widget says payments are unavailable
    assert "4242" not in html
