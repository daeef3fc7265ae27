import io
import json
import logging

import pytest

# Shared by the suites (see tests/fixtures/__init__.py).
pytest_plugins = (
    "tests.fixtures.app",
    "tests.fixtures.platforms",
    "tests.fixtures.vault",
    "tests.fixtures.stack",
    "tests.fixtures.receiver",
)

# The AWS SDK must never reach a real account from the tests.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "SHOPPABLE_VAULT_INDEX_KEY": "dGVzdC1vbmx5LXZhdWx0LWluZGV4LWtleS0zMi1ieXRlcyE=",
    "SHOPPABLE_EDGE_CALLER_KEY": "dGVzdC1vbmx5LWVkZ2UtY2FsbGVyLWtleS0zMi1ieXRlcyE=",
    "SHOPPABLE_WORKER_CALLER_KEY": "dGVzdC1vbmx5LXdvcmtlci1jYWxsZXIta2V5LTMyLWJ5dGU=",
    "SHOPPABLE_REQUEST_DIGEST_KEY": "dGVzdC1vbmx5LXJlcXVlc3QtZGlnZXN0LWtleS0zMmJ5dGU=",
}


NO_DEV_STACK = "/nonexistent/shoppable-tests-run-no-dev-stack"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # A developer's own `make run` in this checkout is not the tests' stack (devstack/stacks.py).
    monkeypatch.setenv("SHOPPABLE_DEV_DIR", NO_DEV_STACK)


@pytest.fixture
def log_lines():
    """Every line our logger writes during the test, parsed from its JSON."""
    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    logger.removeHandler(handler)
