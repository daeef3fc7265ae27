"""The README's walkthrough, run as a newcomer would run it against a fresh `make run`, and
what each command prints compared with what the README shows (tests/e2e/readme_blocks.py)."""

import os
import subprocess

import pytest

from .readme_blocks import matches, normalised, outputs, script, steps
from .stack import ROOT

pytestmark = pytest.mark.e2e


def run_walkthrough(devstack, workdir) -> tuple[list, list[str]]:
    found = steps((ROOT / "README.md").read_text())
    # The project's directory as the reader has it: .shoppable is this stack's dev dir.
    for name in (".venv", "events"):
        (workdir / name).symlink_to(ROOT / name)
    (workdir / ".shoppable").symlink_to(devstack.dev_dir)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHOPPABLE_", "STRIPE_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    ran = subprocess.run(
        ["bash"], input=script(found), cwd=workdir, env=env,
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert ran.returncode == 0, f"the walkthrough failed:\n{ran.stdout[-4000:]}\n{ran.stderr}"
    return found, outputs(ran.stdout, len(found))


def test_the_readme_walkthrough_prints_what_the_readme_shows(devstack, tmp_path):
    found, printed = run_walkthrough(devstack, tmp_path)

    assert len(found) > 20
    differences = [
        f"README line {step.line}: {step.command.splitlines()[0]}\n"
        f"  shows:  {step.shown}\n  prints: {normalised(out).splitlines()}"
        for step, out in zip(found, printed, strict=True)
        if step.shown and not matches(step.shown, out)
    ]
    assert not differences, "\n".join(differences)
    assert sum(1 for step in found if step.shown) > 15
