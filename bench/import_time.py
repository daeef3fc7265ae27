"""Cold-start import time of the Chalice app against the floor of its unavoidable imports.

Lambda's cold start imports `app`; `boto3` and `chalice` are the least any of our functions
imports, so `import boto3, chalice` is the floor. Each sample is a fresh interpreter that times
only the import with `time.perf_counter` (interpreter start-up is the same for both and is left
out). Floor and app samples alternate, so a slow moment of the machine hits both; the medians
are compared.

The children get fake AWS credentials, no `SHOPPABLE_*` settings and an endpoint on a closed
port: importing the app must need neither settings nor network.
"""

import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench import Result

ROOT = Path(__file__).resolve().parent.parent
RUNS = 15
TARGET = 1.3

FLOOR = "import boto3, chalice"
APP = "import app"

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # the discard port: nothing answers
}


def child_env() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "SHOPPABLE_", "PYTHON"))
    }
    return {**env, **FAKE_AWS}


def import_seconds(statement: str) -> float:
    """Time `statement` inside a fresh interpreter; the child prints the seconds it took."""
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{statement!r} failed in a fresh interpreter:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def run(runs: int = RUNS) -> list[Result]:
    import_seconds(FLOOR)  # warm the OS cache and write the .pyc files, not counted
    import_seconds(APP)
    floor, app = [], []
    for _ in range(runs):
        floor.append(import_seconds(FLOOR))
        app.append(import_seconds(APP))
    return [
        Result(
            name=f"{APP} (floor: {FLOOR})",
            value=statistics.median(app) * 1000,
            unit="ms",
            floor=statistics.median(floor) * 1000,
            target=TARGET,
        )
    ]
