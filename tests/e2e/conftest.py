"""E2E fixtures: one `make run` stack for the whole session, driven over real HTTP.

Its teardown is Ctrl-C, and requires a clean stop (see `stack.interrupt`). A failing test
shows the end of the stack's output.
"""

import pytest
import requests

from .stack import DevStack


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    stack = item.funcargs.get("devstack") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(stack, DevStack):
        report.sections.append(("dev stack output (last 8000 characters)", stack.output()[-8000:]))
    return report


class Http:
    """JSON over real HTTP to the running API."""

    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def request(self, method: str, path: str, body=None, key: str | None = None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.session.request(
            method, self.base + path, json=body, headers=headers, timeout=10
        )

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, body, **kw):
        return self.request("POST", path, body, **kw)

    def delete(self, path: str, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api(devstack) -> Http:
    return Http(devstack.api)
