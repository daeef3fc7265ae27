"""Browser tests: the demo page of a `make run` stack in headless Chromium, driven by Playwright.

The browser is Debian's `chromium` package (`make test` installs it; `SHOPPABLE_CHROMIUM`
points elsewhere), never one downloaded at run time: Playwright only drives it. It starts
headless with a fresh profile (Playwright makes a new user-data-dir per launch) and with
Chromium's own background traffic turned off, since the machine's network is closed.

The stack is the session's `make run` stack (the shared `devstack` fixture, as tests/e2e use
it). Screenshots of the main states go to `$SHOPPABLE_SCREENSHOTS`, or to
`screenshots/` under pytest's temporary directory; the run's summary says where.
"""

import os
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.stack import DevStack

CHROMIUM = Path(os.environ.get("SHOPPABLE_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}
PHONE = {
    "viewport": {"width": 360, "height": 780},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
}
DEADLINE_SECONDS = 30
_screenshot_dirs: list[Path] = []


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium package "
            "(apt-get install chromium), or set SHOPPABLE_CHROMIUM to a Chromium binary."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


def _page(chromium, request, options):
    context = chromium.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(30_000)  # a checkout on a loaded CI machine can take seconds
    console: list[str] = []
    errors: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: errors.append(str(error)))
    request.node.browser_console = console
    yield page
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def desktop(chromium, request):
    yield from _page(chromium, request, DESKTOP)


@pytest.fixture
def phone(chromium, request):
    yield from _page(chromium, request, PHONE)


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory):
    directory = Path(
        os.environ.get("SHOPPABLE_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "screenshots"
    )
    directory.mkdir(parents=True, exist_ok=True)
    _screenshot_dirs.append(directory)

    def take(page, name: str, full_page: bool = True) -> Path:
        path = directory / f"{name}.png"
        page.screenshot(path=path, full_page=full_page, animations="disabled")
        return path

    return take


class Merchant:
    """The demo merchant's side, over the API with its key: what really happened."""

    def __init__(self, stack: DevStack):
        self.base = stack.api
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack.info['api_key']}"

    def get(self, path: str) -> dict:
        response = self.session.get(self.base + path, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, body: dict) -> dict:
        response = self.session.request(method, self.base + path, json=body, timeout=10)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def order_status(self, order_id: str) -> str:
        return self.get(f"/v1/orders/{order_id}")["status"]

    def wait_for_status(self, order_id: str, wanted: str) -> dict:
        """Stripe's webhook goes through the queue to its consumer: wait until it has."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while (order := self.get(f"/v1/orders/{order_id}"))["status"] != wanted:
            assert time.monotonic() < deadline, f"the order is still {order['status']}"
            time.sleep(0.2)
        return order

    def variant(self, product_id: str, sku: str) -> dict:
        product = self.get(f"/v1/products/{product_id}")
        return next(v for v in product["variants"] if v["sku"] == sku)


@pytest.fixture(scope="session")
def demo_merchant(devstack) -> Merchant:
    return Merchant(devstack)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        console = getattr(item, "browser_console", None)
        if console:
            report.sections.append(("browser console", "\n".join(console[-100:])))
        stack = item.funcargs.get("devstack") if hasattr(item, "funcargs") else None
        if isinstance(stack, DevStack):
            report.sections.append(("dev stack output (last 8000 characters)",
                                    stack.output()[-8000:]))  # fmt: skip
    return report


def pytest_terminal_summary(terminalreporter):
    for directory in _screenshot_dirs:
        terminalreporter.write_line(f"browser screenshots: {directory}")
