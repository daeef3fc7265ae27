"""The README's walkthrough as a test sees it: its marked shell blocks, split into commands,
each with the output the README shows for it.

A block is marked by `<!-- walkthrough -->` on the line before its fence. Inside it, a line
`# → text` after a command shows the first line the command prints, and the `#   text` lines
that follow show the next ones. Commands are found with bash's own parser (`bash -n`), so a
command may span lines (quotes, `\\`, loops). When compared, ids and times are written as
`prod_…`, `2026-…`; in the README, `…` stands for any text.
"""

import re
import subprocess
from dataclasses import dataclass, field

MARK = "<!-- walkthrough -->"
SHOWN = "# → "
SHOWN_MORE = "#   "
_IDS = re.compile(
    r"\b(sk_test|sk_live|pk_test|mer|prod|var|post|ord|cus|evt|pi|pm|key|conn|ch|re)_[A-Za-z0-9]+"
)
_SECRET = re.compile(r"_secret_[A-Za-z0-9]+")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


@dataclass
class Step:
    command: str
    shown: list[str] = field(default_factory=list)
    line: int = 0  # where the command starts in the README


def blocks(readme: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each marked block, in order."""
    lines = readme.splitlines()
    found = []
    for index, line in enumerate(lines):
        if line.strip() == MARK:
            fence = index + 1
            assert lines[fence].startswith("```"), f"line {fence + 1}: no block after the mark"
            end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
            found.append((fence + 2, lines[fence + 1 : end]))
    return found


def _complete(text: str) -> bool:
    if text.rstrip().endswith("\\"):
        return False
    checked = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
    return checked.returncode == 0


def steps(readme: str) -> list[Step]:
    found: list[Step] = []
    for first_line, lines in blocks(readme):
        pending: list[str] = []
        start = 0
        for offset, line in enumerate(lines):
            number = first_line + offset
            if not pending:
                if line.startswith(SHOWN):
                    assert found, f"line {number}: output shown before any command"
                    found[-1].shown.append(line.removeprefix(SHOWN))
                    continue
                if line.startswith(SHOWN_MORE) and found and found[-1].shown:
                    found[-1].shown.append(line.removeprefix(SHOWN_MORE))
                    continue
                if not line.strip() or line.lstrip().startswith("#"):
                    continue  # prose
                start = number
            pending.append(line)
            text = "\n".join(pending)
            if _complete(text):
                found.append(Step(text, line=start))
                pending = []
        assert not pending, f"line {start}: a command that does not end: {pending[0]}"
    return found


def script(found: list[Step]) -> str:
    """One bash script: each command after a marker line, so their outputs can be told apart."""
    parts = ["set -e -o pipefail"]
    for index, step in enumerate(found):
        parts.append(f"printf '\\n@@step {index}@@\\n'")
        parts.append(step.command)
    parts.append("printf '\\n@@end@@\\n'")
    return "\n".join(parts) + "\n"


def outputs(printed: str, count: int) -> list[str]:
    """What each step printed, from the script's whole output."""
    chunks = re.split(r"\n@@step (\d+)@@\n", printed)
    found = [""] * count
    for number, text in zip(chunks[1::2], chunks[2::2], strict=True):
        found[int(number)] = text.split("\n@@end@@\n")[0]
    return found


def normalised(text: str) -> str:
    text = _SECRET.sub("_secret_…", text)
    text = _IDS.sub(lambda m: f"{m[1]}_…", text)
    text = _TIME.sub("…", text)
    return _PORT.sub(lambda m: f"{m[1]}:…", text)


def matches(shown: list[str], printed: str) -> bool:
    expected = "\n".join(shown)
    pattern = ".*?".join(re.escape(part) for part in normalised(expected).split("…"))
    return re.fullmatch(pattern, normalised(printed.strip("\n")), re.DOTALL) is not None
