"""Start-up budget: what importing `app` (a Lambda cold start) may and may not do.

Behavioural, not timed (`make bench` times it): a fresh interpreter imports `app` with no
`SHOPPABLE_*` settings, an unparsable one, and an AWS endpoint on a port that refuses
connections, then reports which heavy modules got imported, which AWS clients were created and
which sockets were opened. Heavy SDKs belong where they are used, clients are created on first
use, and settings are read on first use.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAKE_AWS

ROOT = Path(__file__).resolve().parents[2]

# The heavy vendor SDKs, imported only where they are needed (a payment, the vault's crypto, a
# consumer batch, an idempotent request, a test). The models and services are plain imports;
# their validators are built on first use (chalicelib/domain/base.py).
NOT_AT_STARTUP = [
    "stripe",
    "cryptography",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.batch",
    "moto",
    "requests",
]

# Runs in the child. It records, before `import app` runs: the import chain that first loads
# each watched module, every botocore client created, and every socket connect or DNS lookup.
CHILD = """
import json, sys, traceback

root, watched = sys.argv[1], set(json.loads(sys.argv[2]))
importers = {}


class WatchImports:
    def find_spec(self, name, path=None, target=None):
        if name in watched and name not in importers:
            importers[name] = [
                f"{frame.filename.removeprefix(root + '/')}:{frame.lineno}"
                for frame in traceback.extract_stack()
                if not frame.filename.startswith(("<frozen", "<string"))
            ]
        return None


sys.meta_path.insert(0, WatchImports())

network = []


def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        network.append(f"{event} {args[1:]!r}")


sys.addaudithook(audit)

import botocore.session

clients = []
create_client = botocore.session.Session.create_client


def recording_create_client(self, service_name, *args, **kwargs):
    clients.append(service_name)
    return create_client(self, service_name, *args, **kwargs)


botocore.session.Session.create_client = recording_create_client

import app

print(json.dumps({
    "imported": {name: importers.get(name, []) for name in watched if name in sys.modules},
    "clients": clients,
    "network": network,
}))
"""


@pytest.fixture(scope="module")
def closed_port():
    """A port bound but not listening: a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
def startup(closed_port):
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "SHOPPABLE_", "PYTHON"))
    }
    env.update(FAKE_AWS)
    env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{closed_port}"
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    # Reading settings at import would fail on this one.
    env["SHOPPABLE_PAGE_SIZE"] = "not-a-number"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), json.dumps(NOT_AT_STARTUP)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done


@pytest.fixture(scope="module")
def report(startup):
    assert startup.returncode == 0, startup.stderr
    return json.loads(startup.stdout.strip().splitlines()[-1])


def test_app_imports_without_settings_or_network(startup):
    assert startup.returncode == 0, (
        "`import app` failed with no settings and no reachable AWS:\n" + startup.stderr
    )


@pytest.mark.parametrize("module", NOT_AT_STARTUP)
def test_heavy_module_is_not_imported_at_startup(report, module):
    chain = report["imported"].get(module)
    assert chain is None, f"`import app` imports {module}, via:\n  " + "\n  ".join(chain)


def test_no_aws_client_is_created_at_startup(report):
    assert report["clients"] == []


def test_no_network_is_touched_at_startup(report):
    assert report["network"] == []
