"""`make` and `make help` list every target a newcomer can run, and do nothing else."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bare_make_lists_every_target_with_what_it_does():
    phony = re.search(r"^\.PHONY: (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert phony is not None
    targets = set(phony[1].split()) - {"help"}

    for command in (["make", "-s"], ["make", "-s", "help"]):
        shown = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        lines = shown.stdout.splitlines()
        listed = {line.split()[0]: line for line in lines[1:]}
        assert set(listed) == targets, command
        assert all(len(line.split()) > 2 for line in listed.values())  # each says what it does
