"""The scheduled functions of the running stack run locally (every second in these tests)."""

import time

import pytest

pytestmark = pytest.mark.e2e


def test_every_schedule_runs(devstack):
    schedules = devstack.info["schedules"]
    if not schedules:
        pytest.skip("the app has no scheduled functions")
    deadline = time.monotonic() + max(schedules.values()) + 10
    for name in schedules:
        while f"scheduled {name} ran" not in devstack.output():
            assert time.monotonic() < deadline, f"{name} never ran:\n{devstack.output()[-4000:]}"
            time.sleep(0.2)
