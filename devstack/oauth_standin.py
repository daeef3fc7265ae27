"""The platforms' OAuth 2.0 side, for the platform stand-in (`platform_standin.py`): consent
screens that approve at once, and token, refresh and revoke endpoints as each platform
documents them (parameter names, answers, error shapes, expiry fields; PLATFORMS.md).

Each platform lives under the stand-in's prefixes, the same paths as the real hosts:

    /facebook/v21.0/dialog/oauth                 www.facebook.com
    /meta/oauth/access_token, /me, /me/accounts  graph.facebook.com
    /tiktok-services/open/authorize              services.tiktokshop.com
    /tiktok-auth/api/v2/token/get, …/refresh     auth.tiktok-shops.com
    /tiktok/authorization/202309/shops           open-api.tiktokglobalshop.com
    /x-web/i/oauth2/authorize                    x.com
    /x/2/oauth2/token, …/revoke, /2/users/me     api.x.com
    /pinterest-web/oauth/                        www.pinterest.com
    /pinterest/v5/oauth/token, /v5/user_account  api.pinterest.com

(`base_urls` gives the settings that point the app at them.)
A consent screen redirects (302) to the `redirect_uri` with `code` and `state` (TikTok Shop:
to the redirect registered for the app, `register_redirect`). Codes are single-use and bound
to the redirect URI (and, for X, to the PKCE challenge). Every other call to a platform must
carry a token issued here that is neither expired nor revoked, or gets the platform's
authentication error. What an authorization grants is set with `grant_accounts` (by default,
the sample deliveries' accounts of events/, so that `make run` connects them); tests shorten
`lifetimes` and call `revoke_user` to see renewals and refusals.
"""

import base64
import copy
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

# What each platform's user grants unless a test says otherwise: the accounts the sample
# deliveries of events/ are for.
DEFAULT_GRANTS: dict[str, dict[str, Any]] = {
    "meta": {
        "user": {"id": "10158000000000001", "name": "Demo Admin"},
        "pages": [
            {
                "id": "106000000000001",
                "name": "Demo Shop",
                "instagram_business_account": {"id": "17841400000000000", "username": "demoshop"},
            }
        ],
    },
    "tiktok": {
        "open_id": "7010000000000000001",
        "seller_name": "Demo Shop",
        "seller_base_region": "FR",
        "shops": [
            {
                "id": "7494726673780148744",
                "name": "Demo Shop FR",
                "region": "FR",
                "cipher": "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",
                "code": "FRLCB2LWQV",
                "seller_type": "LOCAL",
            }
        ],
    },
    "x": {"id": "2244994945000", "name": "Demo Shop", "username": "demoshop"},
    "pinterest": {"id": "549755885175", "username": "demoshop", "account_type": "BUSINESS"},
}

# Seconds each kind of token lives, as the platforms document them.
LIFETIMES = {
    "meta_short": 3600,  # a short-lived user token (1 to 2 hours)
    "meta_long": 5_184_000,  # a long-lived user token (~60 days)
    "tiktok_access": 7 * 86400,
    "tiktok_refresh": 365 * 86400,
    "x_access": 7200,  # two hours
    "pinterest_access": 2_592_000,  # ~30 days
    "pinterest_refresh": 31_536_000,  # ~1 year
}

# The prefix the app's settings point at, per setting.
_URLS = {
    "SHOPPABLE_META_AUTHORIZE_URL": "/facebook/v21.0/dialog/oauth",
    "SHOPPABLE_TIKTOK_AUTHORIZE_URL": "/tiktok-services/open/authorize",
    "SHOPPABLE_TIKTOK_AUTH_URL": "/tiktok-auth",
    "SHOPPABLE_X_AUTHORIZE_URL": "/x-web/i/oauth2/authorize",
    "SHOPPABLE_PINTEREST_AUTHORIZE_URL": "/pinterest-web/oauth/",
}

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Issued:
    source: str
    kind: str  # code, access, refresh, page
    grant: dict[str, Any]  # what the authorization granted (a copy of the grants then)
    expires_at: float | None
    client_id: str = ""
    redirect_uri: str = ""
    challenge: str | None = None
    page_id: str | None = None
    revoked: bool = False

    def live(self) -> bool:
        return not self.revoked and (self.expires_at is None or time.time() < self.expires_at)


@dataclass
class OAuthStandin:
    grants: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(DEFAULT_GRANTS))
    lifetimes: dict[str, int] = field(default_factory=lambda: dict(LIFETIMES))
    redirects: dict[str, str] = field(default_factory=dict)  # TikTok: the app's redirect URL
    # Meta Shops: which Page's token may read each commerce account's orders
    commerce_accounts: dict[str, str] = field(default_factory=dict)
    issued: dict[str, Issued] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # What tests and the dev stack set

    def base_urls(self, url: str) -> dict[str, str]:
        return {variable: url + path for variable, path in _URLS.items()}

    def register_redirect(self, source: str, url: str) -> None:
        self.redirects[source] = url

    def grant_accounts(self, platform: str, account_id: str, name: str | None = None) -> None:
        """The next authorizations on `platform` grant this one account (Instagram: through
        a Page of its own, `page-<id>`)."""
        with self.lock:
            if platform in ("instagram", "facebook"):
                page_id = account_id if platform == "facebook" else f"page-{account_id}"
                page: dict[str, Any] = {"id": page_id, "name": name or f"Page {page_id}"}
                if platform == "instagram":
                    page["instagram_business_account"] = {"id": account_id,
                                                          "username": name or "shop"}  # fmt: skip
                self.grants["meta"]["pages"] = [page]
            elif platform == "tiktok":
                self.grants["tiktok"]["shops"] = [{
                    "id": account_id, "name": name or f"Shop {account_id}", "region": "FR",
                    "cipher": f"GCP_{account_id}", "code": "FR0000", "seller_type": "LOCAL",
                }]  # fmt: skip
            elif platform in ("x", "pinterest"):
                self.grants[platform].update(id=account_id, username=name or f"user{account_id}")
            else:
                raise ValueError(platform)

    def grant_defaults(self) -> None:
        """The next authorizations grant the default accounts again (tokens issued stay)."""
        with self.lock:
            self.grants = copy.deepcopy(DEFAULT_GRANTS)

    def revoke_user(self, source: str) -> None:
        """The user takes the app's access away at the platform: every token of `source`
        stops working (renewals then get the platform's refusal)."""
        with self.lock:
            for issued in self.issued.values():
                if issued.source == source:
                    issued.revoked = True

    def tokens(self, source: str, kind: str | None = None) -> list[str]:
        """The live tokens issued for `source` (tests look for them in requests)."""
        with self.lock:
            return [t for t, i in self.issued.items()
                    if i.source == source and i.kind != "code" and i.live()
                    and (kind is None or i.kind == kind)]  # fmt: skip

    def reset(self) -> None:
        with self.lock:
            self.grants = copy.deepcopy(DEFAULT_GRANTS)
            self.lifetimes = dict(LIFETIMES)
            self.commerce_accounts.clear()
            self.issued.clear()

    # Serving

    def answer(self, prefix: str, method: str, path: str, query: dict, headers: dict, body: Any):
        """The answer to a request under `prefix`, or None to let the platform's API answer
        (after this checked its token)."""
        form = body if isinstance(body, dict) else {}
        with self.lock:
            if prefix == "facebook" and path.endswith("/dialog/oauth"):
                return self._consent("meta", query, query.get("redirect_uri", ""))
            if prefix == "tiktok-services" and path == "/open/authorize":
                return self._consent("tiktok", query, self.redirects.get("tiktok", ""))
            if prefix == "x-web" and path == "/i/oauth2/authorize":
                return self._consent("x", query, query.get("redirect_uri", ""))
            if prefix == "pinterest-web" and path.rstrip("/") == "/oauth":
                return self._consent("pinterest", query, query.get("redirect_uri", ""))
            if prefix == "meta":
                return self._meta(method, path, query, headers)
            if prefix == "tiktok-auth":
                return self._tiktok_token(path, query)
            if prefix == "tiktok":
                return self._tiktok(path, headers)
            if prefix == "x":
                return self._x(method, path, headers, form)
            if prefix == "pinterest":
                return self._pinterest(method, path, headers, form)
        return None

    def _issue(self, source: str, kind: str, grant: dict, lifetime: int | None, **extra) -> str:
        prefixes = {"code": "code", "access": "tok", "refresh": "ref", "page": "EAAP"}
        token = f"{source}-{prefixes[kind]}-{secrets.token_urlsafe(24)}"
        expires = time.time() + lifetime if lifetime is not None else None
        self.issued[token] = Issued(source, kind, grant, expires, **extra)
        return token

    def _live(self, token: str | None, source: str, *kinds: str) -> Issued | None:
        issued = self.issued.get(token or "")
        if issued is None or issued.source != source or not issued.live():
            return None
        return issued if not kinds or issued.kind in kinds else None

    def _consent(self, source: str, query: dict, redirect_uri: str) -> Answer:
        if not redirect_uri.startswith(("http://", "https://")):
            return 400, {"error": "redirect_uri is not registered"}, {}
        if source == "x" and (query.get("code_challenge_method") != "S256"
                              or not query.get("code_challenge")):  # fmt: skip
            return 400, {"error": "invalid_request", "error_description": "PKCE is required"}, {}
        code = self._issue(
            source, "code", copy.deepcopy(self.grants[source]), 600,
            client_id=query.get("client_id") or query.get("service_id") or "",
            redirect_uri=redirect_uri, challenge=query.get("code_challenge"),
        )  # fmt: skip
        params = {"code": code, "state": query.get("state", "")}
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return 302, {}, {"Location": redirect_uri + separator + urlencode(params)}

    def _use_code(self, source: str, code: str | None, redirect_uri: str | None) -> Issued | None:
        issued = self._live(code, source, "code")
        if issued is None or (redirect_uri is not None and redirect_uri != issued.redirect_uri):
            return None
        issued.revoked = True  # single use
        return issued

    # Meta (Graph API)

    @staticmethod
    def _meta_error(message: str, code: int, subcode: int | None = None) -> Answer:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                                 "fbtrace_id": "AStandIn" + secrets.token_hex(4)}  # fmt: skip
        if subcode:
            error["error_subcode"] = subcode
        return 400, {"error": error}, {}

    def _meta(self, method: str, path: str, query: dict, headers: dict) -> Answer | None:
        if path == "/oauth/access_token":
            if query.get("grant_type") == "fb_exchange_token":
                user = self._live(query.get("fb_exchange_token"), "meta", "access")
                if user is None or not query.get("client_secret"):
                    return self._meta_error("Error validating access token.", 190, 460)
                token = self._issue("meta", "access", user.grant, self.lifetimes["meta_long"])
                return 200, {"access_token": token, "token_type": "bearer",
                             "expires_in": self.lifetimes["meta_long"]}, {}  # fmt: skip
            if not query.get("client_secret") or not query.get("client_id"):
                return self._meta_error("Missing client_id or client_secret.", 101)
            code = self._use_code("meta", query.get("code"), query.get("redirect_uri"))
            if code is None:
                return self._meta_error("This authorization code has been used.", 100, 36009)
            token = self._issue("meta", "access", code.grant, self.lifetimes["meta_short"])
            return 200, {"access_token": token, "token_type": "bearer",
                         "expires_in": self.lifetimes["meta_short"]}, {}  # fmt: skip
        bearer = _bearer(headers)
        caller = self._live(bearer, "meta", "access", "page")
        if caller is None:
            return self._meta_error("Error validating access token: the session is invalid.", 190)
        if method == "GET" and path == "/me" and caller.kind == "access":
            user = caller.grant["user"]
            return 200, {"id": user["id"], "name": user["name"]}, {}
        if method == "GET" and path == "/me/accounts" and caller.kind == "access":
            pages = []
            for page in caller.grant["pages"]:
                token = self._issue("meta", "page", caller.grant, None, page_id=page["id"])
                pages.append({**page, "access_token": token, "category": "Retail",
                              "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING",
                                        "MODERATE", "MANAGE"]})  # fmt: skip
            return 200, {"data": pages, "paging": {"cursors": {"before": "b", "after": "a"}}}, {}
        segments = path.strip("/").split("/")
        if segments[-1] == "commerce_orders":
            owner = self.commerce_accounts.get(segments[0])
            if owner is None or caller.page_id != owner:
                return self._meta_error("(#200) Permissions error", 200)
        return None  # the Graph API stand-in answers

    # TikTok Shop

    def _tiktok_token(self, path: str, query: dict) -> Answer:
        if not query.get("app_key") or not query.get("app_secret"):
            return 200, _tiktok_error(36004004, "invalid app_key or app_secret"), {}
        if path == "/api/v2/token/get" and query.get("grant_type") == "authorized_code":
            code = self._use_code("tiktok", query.get("auth_code"), None)
            if code is None:
                return 200, _tiktok_error(36004004, "invalid auth_code"), {}
            return 200, self._tiktok_tokens(code.grant), {}
        if path == "/api/v2/token/refresh" and query.get("grant_type") == "refresh_token":
            refresh = self._live(query.get("refresh_token"), "tiktok", "refresh")
            if refresh is None:
                return 200, _tiktok_error(36004004, "invalid refresh_token"), {}
            return 200, self._tiktok_tokens(refresh.grant, refresh=query["refresh_token"]), {}
        return 200, _tiktok_error(36004004, "invalid grant_type"), {}

    def _tiktok_tokens(self, grant: dict, refresh: str | None = None) -> dict:
        now = int(time.time())
        access = self._issue("tiktok", "access", grant, self.lifetimes["tiktok_access"])
        if refresh is None:  # TikTok keeps the refresh token until it expires
            refresh = self._issue("tiktok", "refresh", grant, self.lifetimes["tiktok_refresh"])
        return {"code": 0, "message": "success", "request_id": secrets.token_hex(8), "data": {
            "access_token": access,
            "access_token_expire_in": now + self.lifetimes["tiktok_access"],
            "refresh_token": refresh,
            "refresh_token_expire_in": int(self.issued[refresh].expires_at or now),
            "open_id": grant["open_id"], "seller_name": grant["seller_name"],
            "seller_base_region": grant["seller_base_region"], "user_type": 0,
            "granted_scopes": ["seller.authorization.info", "seller.order.info",
                               "seller.product.basic"],
        }}  # fmt: skip

    def _tiktok(self, path: str, headers: dict) -> Answer | None:
        caller = self._live(headers.get("x-tts-access-token"), "tiktok", "access")
        if caller is None:
            return 200, _tiktok_error(105002, "Expired credentials or invalid access token"), {}
        if path == "/authorization/202309/shops":
            return 200, {"code": 0, "message": "Success", "request_id": secrets.token_hex(8),
                         "data": {"shops": caller.grant["shops"]}}, {}  # fmt: skip
        return None

    # X

    def _x(self, method: str, path: str, headers: dict, form: dict) -> Answer | None:
        if method == "POST" and path in ("/2/oauth2/token", "/2/oauth2/revoke"):
            if not _basic(headers):
                return (
                    401,
                    {
                        "error": "unauthorized_client",
                        "error_description": "Missing valid authorization header",
                    },
                    {},
                )
            if path == "/2/oauth2/revoke":
                issued = self.issued.get(form.get("token", ""))
                if issued is not None and issued.source == "x":
                    issued.revoked = True
                return 200, {"revoked": True}, {}
            return self._x_token(form)
        caller = self._live(_bearer(headers), "x", "access")
        if caller is None:
            return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                         "detail": "Unauthorized"}, {}  # fmt: skip
        if method == "GET" and path == "/2/users/me":
            user = caller.grant
            return 200, {"data": {"id": user["id"], "name": user["name"],
                                  "username": user["username"]}}, {}  # fmt: skip
        return None

    def _x_token(self, form: dict) -> Answer:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self._use_code("x", form.get("code"), form.get("redirect_uri"))
            verifier = form.get("code_verifier", "")
            if code is None or _s256(verifier) != code.challenge:
                return (
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the authorization code was invalid.",
                    },
                    {},
                )
            grant = code.grant
        elif grant_type == "refresh_token":
            refresh = self._live(form.get("refresh_token"), "x", "refresh")
            if refresh is None:
                return (
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                    {},
                )
            refresh.revoked = True  # X rotates refresh tokens
            grant = refresh.grant
        else:
            return 400, {"error": "unsupported_grant_type"}, {}
        access = self._issue("x", "access", grant, self.lifetimes["x_access"])
        refresh_token = self._issue("x", "refresh", grant, None)
        return 200, {"token_type": "bearer", "expires_in": self.lifetimes["x_access"],
                     "access_token": access, "refresh_token": refresh_token,
                     "scope": "tweet.read tweet.write users.read dm.read dm.write "
                              "offline.access"}, {}  # fmt: skip

    # Pinterest

    def _pinterest(self, method: str, path: str, headers: dict, form: dict) -> Answer | None:
        if method == "POST" and path == "/v5/oauth/token":
            if not _basic(headers):
                return 401, {"code": 2, "message": "Authentication failed."}, {}
            if form.get("grant_type") == "authorization_code":
                code = self._use_code("pinterest", form.get("code"), form.get("redirect_uri"))
                if code is None:
                    return 400, {"code": 1, "message": "Invalid authorization code."}, {}
                grant = code.grant
            elif form.get("grant_type") == "refresh_token":
                refresh = self._live(form.get("refresh_token"), "pinterest", "refresh")
                if refresh is None:
                    return 400, {"code": 1, "message": "Invalid refresh token."}, {}
                refresh.revoked = True  # continuous refresh: a new refresh token each time
                grant = refresh.grant
            else:
                return 400, {"code": 1, "message": "Invalid grant_type."}, {}
            life, refresh_life = self.lifetimes["pinterest_access"], self.lifetimes[
                "pinterest_refresh"]  # fmt: skip
            return 200, {
                "access_token": self._issue("pinterest", "access", grant, life),
                "refresh_token": self._issue("pinterest", "refresh", grant, refresh_life),
                "response_type": form["grant_type"], "token_type": "bearer",
                "expires_in": life, "refresh_token_expires_in": refresh_life,
                "scope": "boards:read,pins:read,pins:write,catalogs:read,catalogs:write,"
                         "user_accounts:read",
            }, {}  # fmt: skip
        caller = self._live(_bearer(headers), "pinterest", "access")
        if caller is None:
            return 401, {"code": 2, "message": "Authentication failed."}, {}
        if method == "GET" and path == "/v5/user_account":
            return 200, dict(caller.grant), {}
        return None


def _bearer(headers: dict) -> str | None:
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _basic(headers: dict) -> bool:
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return False
    return bool(user and password)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _tiktok_error(code: int, message: str) -> dict:
    return {"code": code, "message": message, "request_id": secrets.token_hex(8), "data": None}
