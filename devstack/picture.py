"""`python -m devstack.picture`: the README's picture of the funnel, `docs/funnel.svg`.

Drawn by the same code as `GET /v1/analytics/funnel.svg`, from the demo creator's week as
`make run` seeds it (devstack/seed.py), on fixed dates so that the file stays the same; a test
checks that the committed file is what the code draws.
"""

import sys
from datetime import date, timedelta
from pathlib import Path

from chalicelib.domain.attribution import Channel
from chalicelib.domain.charts import funnel_svg
from chalicelib.domain.funnel import Cell, CellCounts, funnel_report

from .seed import DEMO_WEEK

PICTURE = Path(__file__).resolve().parents[1] / "docs" / "funnel.svg"
LAST_DAY = date(2026, 11, 30)
SHIRT = 4900


def demo_cells() -> list[tuple[Cell, CellCounts]]:
    cells = []
    for days, linked_views, clicks, other_views, sales in DEMO_WEEK:
        day = LAST_DAY - timedelta(days=days)
        cells.append(
            (
                Cell(day, "post_demo", Channel.INSTAGRAM, "cr_demo"),
                CellCounts(
                    views=linked_views,
                    clicks=clicks,
                    checkouts=len(sales),
                    paid_orders=len(sales),
                    revenue={"EUR": SHIRT * len(sales)},
                ),
            )
        )
        cells.append((Cell(day, "post_demo", Channel.WEB, None), CellCounts(views=other_views)))
    # One refund of a quarter of a shirt on the last day, as the README's walkthrough makes.
    cells.append(
        (
            Cell(LAST_DAY, "post_demo", Channel.INSTAGRAM, "cr_demo"),
            CellCounts(refunds={"EUR": SHIRT // 4}),
        )
    )
    return cells


def picture() -> str:
    report = funnel_report(demo_cells(), "creator", LAST_DAY - timedelta(days=6), LAST_DAY, "EUR")
    return funnel_svg(report, title="Demo shop")


def main() -> int:
    PICTURE.parent.mkdir(exist_ok=True)
    drawn = picture()
    if not PICTURE.exists() or PICTURE.read_text() != drawn:
        PICTURE.write_text(drawn)
        print(f"wrote {PICTURE.relative_to(PICTURE.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
