"""Connecting a merchant's own accounts through each platform's OAuth, through HTTP: the
redirect flow (the platform stand-in approves at once) and the exact requests each platform
receives; states that are replayed, expired or foreign; platform refusals; accounts that are
another merchant's; sealed tokens."""

import base64
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.adapters.platforms.tiktok import request_sign
from chalicelib.domain.connections import AuthorizationState, Platform, sign_state
from devstack.connect import consent

from .platform_helpers import (
    META_APP_ID,
    PINTEREST_APP_ID,
    PINTEREST_APP_SECRET,
    PUBLIC_API,
    STATE_SECRET,
    TIKTOK_KEY,
    TIKTOK_SECRET,
    TIKTOK_SERVICE_ID,
    X_CLIENT_ID,
    X_CLIENT_SECRET,
    approve,
    authorize,
    callback_path,
    connect,
    main_table_text,
    token_keys,
)


@pytest.fixture(autouse=True)
def _platforms(platforms):
    return platforms


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def grants(rt):
    items = rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"]
    return [i for i in items if i["sk"]["S"] == "GRANT"]


def listed(api, merchant):
    return api.get("/v1/connections", key=merchant.secret).json["data"]


# The flow, per platform


def test_meta_connects_the_page_and_its_instagram_account(api, rt, merchant, platforms):
    url = authorize(api, merchant, "instagram")
    assert url.startswith(f"{platforms.url}/facebook/v21.0/dialog/oauth?")
    asked = query_of(url)
    redirect = f"{PUBLIC_API}/v1/connections/instagram/callback"
    assert set(asked) == {"client_id", "redirect_uri", "state", "response_type", "scope"}
    assert (asked["client_id"], asked["redirect_uri"], asked["response_type"]) == (
        META_APP_ID,
        redirect,
        "code",
    )
    assert "instagram_content_publish" in asked["scope"].split(",")

    location = consent(url)
    code = query_of(location)["code"]
    assert query_of(location)["state"] == asked["state"]
    done = api.get(callback_path(location))
    assert done.status_code == 200, done.body
    made = {(c["platform"], c["account_id"]): c for c in done.json["data"]}
    assert set(made) == {("facebook", "106000000000001"), ("instagram", "17841400000000000")}
    assert all(c["status"] == "active" and c["id"].startswith("conn_") for c in made.values())
    assert made[("instagram", "17841400000000000")]["account_name"] == "demoshop"

    short, long = platforms.calls("meta", "GET", "/oauth/access_token")
    assert short.query == {
        "client_id": META_APP_ID,
        "redirect_uri": redirect,
        "client_secret": "meta-app-secret-tests",
        "code": code,
    }
    assert short.query["client_secret"] and "authorization" not in short.headers
    assert set(long.query) == {"grant_type", "client_id", "client_secret", "fb_exchange_token"}
    assert long.query["grant_type"] == "fb_exchange_token"
    (accounts,) = platforms.calls("meta", "GET", "/me/accounts")
    assert accounts.query["fields"] == (
        "id,name,access_token,instagram_business_account{id,username}"
    )
    assert accounts.headers["authorization"].startswith("Bearer meta-tok-")
    assert {c["id"] for c in listed(api, merchant)} == {c["id"] for c in made.values()}


def test_tiktok_connects_the_sellers_shops_with_their_cipher(api, rt, merchant, platforms):
    url = authorize(api, merchant, "tiktok")
    assert url.startswith(f"{platforms.url}/tiktok-services/open/authorize?")
    asked = query_of(url)
    assert set(asked) == {"service_id", "state"} and asked["service_id"] == TIKTOK_SERVICE_ID
    location = consent(url)
    done = api.get(callback_path(location))
    assert done.status_code == 200, done.body
    (shop,) = done.json["data"]
    assert (shop["platform"], shop["account_id"]) == ("tiktok", "7494726673780148744")

    (token,) = platforms.calls("tiktok-auth", "GET", "/api/v2/token/get")
    assert token.query == {
        "app_key": TIKTOK_KEY,
        "app_secret": TIKTOK_SECRET,
        "auth_code": query_of(location)["code"],
        "grant_type": "authorized_code",
    }
    (shops,) = platforms.calls("tiktok", "GET", "/authorization/202309/shops")
    assert shops.headers["x-tts-access-token"] in platforms.oauth.tokens("tiktok", "access")
    assert "shop_cipher" not in shops.query  # the shops call is the one that finds the ciphers
    unsigned = {k: v for k, v in shops.query.items() if k != "sign"}
    assert shops.query["sign"] == request_sign(TIKTOK_SECRET, shops.path, unsigned, b"")
    connection = rt.connection_store.for_account("tiktok", "7494726673780148744")
    assert connection.details["shop_cipher"] == "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"


def test_x_connects_with_pkce(api, rt, merchant, platforms):
    url = authorize(api, merchant, "x")
    assert url.startswith(f"{platforms.url}/x-web/i/oauth2/authorize?")
    asked = query_of(url)
    redirect = f"{PUBLIC_API}/v1/connections/x/callback"
    assert {k: asked[k] for k in ("response_type", "client_id", "redirect_uri")} == {
        "response_type": "code",
        "client_id": X_CLIENT_ID,
        "redirect_uri": redirect,
    }
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert "offline.access" in asked["scope"].split(" ")
    location = consent(url)
    done = api.get(callback_path(location))
    assert done.status_code == 200, done.body
    assert [(c["platform"], c["account_id"]) for c in done.json["data"]] == [("x", "2244994945000")]

    (token,) = platforms.calls("x", "POST", "/2/oauth2/token")
    assert token.headers["authorization"] == basic(X_CLIENT_ID, X_CLIENT_SECRET)
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert set(token.body) == {"code", "grant_type", "redirect_uri", "code_verifier"}
    assert token.body["grant_type"] == "authorization_code"
    assert token.body["redirect_uri"] == redirect
    assert token.body["code"] == query_of(location)["code"]
    verifier = token.body["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == asked["code_challenge"]  # S256 of the verifier we kept
    assert verifier not in url and verifier not in location  # never through the browser
    (me,) = platforms.calls("x", "GET", "/2/users/me")
    assert me.headers["authorization"].startswith("Bearer x-tok-")


def test_pinterest_connects_the_user(api, rt, merchant, platforms):
    url = authorize(api, merchant, "pinterest")
    assert url.startswith(f"{platforms.url}/pinterest-web/oauth/?")
    asked = query_of(url)
    assert set(asked) == {"client_id", "redirect_uri", "response_type", "scope", "state"}
    assert asked["client_id"] == PINTEREST_APP_ID and "pins:write" in asked["scope"].split(",")
    location = consent(url)
    done = api.get(callback_path(location))
    assert done.status_code == 200, done.body
    assert done.json["data"][0]["account_id"] == "549755885175"
    (token,) = platforms.calls("pinterest", "POST", "/v5/oauth/token")
    assert token.headers["authorization"] == basic(PINTEREST_APP_ID, PINTEREST_APP_SECRET)
    assert token.body == {
        "grant_type": "authorization_code",
        "code": query_of(location)["code"],
        "redirect_uri": f"{PUBLIC_API}/v1/connections/pinterest/callback",
    }


def test_tokens_are_sealed_never_in_clear_in_the_table_or_the_logs(
    api, rt, merchant, platforms, log_lines
):
    for platform in ("instagram", "tiktok", "x", "pinterest"):
        connect(api, platforms, merchant, platform)
    issued = [t for source in ("meta", "tiktok", "x", "pinterest")
              for t in platforms.oauth.tokens(source)]  # fmt: skip
    assert len(issued) >= 8
    stored = main_table_text(rt)
    logged = "\n".join(str(line) for line in log_lines())
    for token in issued:
        assert token not in stored
        assert token not in logged
    assert "sealed_tokens" in stored and "wrapped_key" not in stored
    assert len(token_keys(rt)) == 4  # one data key per consent, in the table without backups


# The state, and refusals: nothing is stored


def _nothing_connected(api, rt, merchant):
    assert listed(api, merchant) == []
    assert grants(rt) == []
    assert token_keys(rt) == []


def test_a_replayed_state_is_refused(api, rt, merchant, platforms):
    location = consent(authorize(api, merchant, "x"))
    assert api.get(callback_path(location)).status_code == 200
    again = api.get(callback_path(location))
    assert again.status_code == 400
    assert again.json["error"]["code"] == "state_used"
    assert again.json["error"]["param"] == "state"
    assert len(platforms.calls("x", "POST", "/2/oauth2/token")) == 1  # the code was not sent again


def test_an_expired_state_is_refused(api, rt, merchant, platforms):
    url = authorize(api, merchant, "x")
    expired = AuthorizationState(merchant.merchant.id, Platform.X, "n" * 32, int(time.time()) - 1)
    location = consent(
        url.replace(query_of(url)["state"], sign_state(STATE_SECRET.encode(), expired))
    )
    response = api.get(callback_path(location))
    assert (response.status_code, response.json["error"]["code"]) == (400, "state_expired")
    assert platforms.calls("x", "POST", "/2/oauth2/token") == []
    _nothing_connected(api, rt, merchant)


@pytest.mark.parametrize(
    "state",
    [
        "forged",
        "eyJtIjoibWVyX3giLCJwIjoieCIsIm4iOiJhIiwiZSI6OTk5OTk5OTk5OX0.c2lnbmF0dXJl",
        "other-secret",
        "other-platform",
        "",
    ],
)
def test_a_foreign_state_is_refused(api, rt, merchant, other_merchant, platforms, state):
    if state == "other-secret":
        forged = AuthorizationState(other_merchant.merchant.id, Platform.X, "n" * 32, 2**31)
        state = sign_state(b"not-our-secret", forged)
    elif state == "other-platform":  # issued for TikTok, brought to X's callback
        state = query_of(authorize(api, merchant, "tiktok"))["state"]
    location = consent(authorize(api, merchant, "x"))
    code = query_of(location)["code"]
    response = api.get(f"/v1/connections/x/callback?code={code}&state={state}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "state_invalid"
    assert platforms.calls("x", "POST", "/2/oauth2/token") == []
    _nothing_connected(api, rt, merchant)
    _nothing_connected(api, rt, other_merchant)


def test_the_platforms_refusal_is_shown_and_nothing_is_stored(api, rt, merchant, platforms):
    state = query_of(authorize(api, merchant, "instagram"))["state"]
    denied = api.get(
        f"/v1/connections/instagram/callback?error=access_denied&error_reason=user_denied"
        f"&error_description=Permissions+error&state={state}"
    )
    assert denied.status_code == 400
    assert denied.json["error"]["code"] == "authorization_denied"
    assert "Permissions error" in denied.json["error"]["message"]

    state = query_of(authorize(api, merchant, "instagram"))["state"]
    bad_code = api.get(f"/v1/connections/instagram/callback?code=not-a-code&state={state}")
    assert bad_code.status_code == 400
    assert bad_code.json["error"]["code"] == "authorization_failed"
    assert "authorization code has been used" in bad_code.json["error"]["message"]
    _nothing_connected(api, rt, merchant)


def test_an_unknown_platform_is_404_and_authorize_needs_a_key(api, merchant):
    assert api.post("/v1/connections/myspace/authorize", key=merchant.secret).status_code == 404
    assert api.post("/v1/connections/x/authorize").status_code == 401
    assert api.get("/v1/connections/myspace/callback?code=a&state=b").status_code == 404


def test_an_account_of_another_merchant_is_refused_and_its_tokens_revoked(
    api, rt, merchant, other_merchant, platforms
):
    mine = connect(api, platforms, merchant, "x")
    taken = approve(api, other_merchant, "x")
    assert taken.status_code == 409
    assert taken.json["error"]["code"] == "account_connected_elsewhere"
    assert listed(api, other_merchant) == []
    assert rt.connection_store.for_account("x", "2244994945000").id == mine["id"]
    # the tokens issued for the refused authorization were given back
    revoked = platforms.calls("x", "POST", "/2/oauth2/revoke")
    assert [r.body["token_type_hint"] for r in revoked] == ["refresh_token", "access_token"]


def test_the_same_merchant_authorizing_again_keeps_its_connection(api, rt, merchant, platforms):
    first = connect(api, platforms, merchant, "instagram")
    again = connect(api, platforms, merchant, "instagram")
    assert again["id"] == first["id"]
    assert len(listed(api, merchant)) == 2  # the Page and the Instagram account, once each
    assert len(grants(rt)) == 1  # the first grant was shredded
    assert len(token_keys(rt)) == 1


def test_typing_an_account_id_no_longer_claims_it(api, rt, merchant):
    response = api.post(
        "/v1/connections", {"platform": "x", "account_id": "2244994945000"}, key=merchant.secret
    )
    assert response.status_code in (404, 405)
    assert rt.connection_store.for_account("x", "2244994945000") is None
