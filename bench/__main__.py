"""Run the benchmarks, print a table and write `bench/results.json`.

To add a benchmark: write `bench/<name>.py` with a `run() -> list[Result]` and list it in
`BENCHMARKS`. `python -m bench NAME …` runs only the named ones.
"""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from bench import (
    Result,
    channels,
    checkout,
    connections,
    first_response,
    outbox,
    vault,
    webhooks,
)

BENCHMARKS: dict[str, Callable[[], list[Result]]] = {
    "first_response": first_response.run,
    "vault": vault.run,
    "checkout": checkout.run,
    "webhooks": webhooks.run,
    "connections": connections.run,
    "outbox": outbox.run,
    "channels": channels.run,
}

RESULTS = Path(__file__).with_name("results.json")


def _figure(value: float) -> str:
    """One decimal, or three significant digits for a small figure (a cost in dollars)."""
    return f"{value:.1f}" if value == 0 or abs(value) >= 1 else f"{value:.3g}"


def table(results: list[Result]) -> str:
    rows = [("benchmark", "value", "floor", "ratio", "target", "result", "before")]
    for r in results:
        rows.append(
            (
                r.name,
                f"{_figure(r.value)} {r.unit}",
                "" if r.floor is None else f"{_figure(r.floor)} {r.unit}",
                "" if r.ratio is None else f"{r.ratio:.2f}",
                "" if r.target is None else f"<= {r.target:g}",
                r.verdict,
                "" if r.before is None else f"{_figure(r.before)} {r.unit}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(BENCHMARKS)}")
    names = parser.parse_args(argv).names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    results: list[Result] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.extend(BENCHMARKS[name]())

    print(table(results))
    RESULTS.write_text(json.dumps({"benchmarks": [r.as_json() for r in results]}, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
