"""Benchmarks run by `make bench` (`python -m bench`).

Each benchmark is a module with a `run()` function returning `Result` rows; `__main__` lists
them, prints one table and writes `bench/results.json`. The numbers are reported, not
asserted: a row's `target` only labels it PASS or FAIL. A counted figure may show what it was
before a change (`before`, from `bench/baseline.json`).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One measured figure, compared with a floor measured in the same run."""

    name: str
    value: float
    unit: str
    floor: float | None = None
    target: float | None = None  # the ratio value / floor should not exceed this
    before: float | None = None  # the same figure before issue 15's changes (bench/baseline.json)

    @property
    def ratio(self) -> float | None:
        if self.floor is None or not self.floor:
            return None
        return self.value / self.floor

    @property
    def verdict(self) -> str:
        if self.target is None or self.ratio is None:
            return ""
        return "PASS" if self.ratio <= self.target else "FAIL"

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "unit": self.unit,
            "floor": None if self.floor is None else round(self.floor, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "before": None if self.before is None else round(self.before, 6),
        }
