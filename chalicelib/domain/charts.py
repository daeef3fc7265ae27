"""The funnel as a picture, hand-built SVG: for a merchant's dashboard or an e-mail.

No plotting library: the picture is a few rectangles and lines of text, and the Lambda zip
stays small. Every text that comes from data goes through `_text` (XML-escaped), every
number is an integer or a fixed-point string, and the same report always draws the same
bytes (a test compares the README's picture with what the code draws).
"""

from html import escape

from .funnel import FunnelReport
from .money import to_decimal_string

WIDTH = 760
HEIGHT = 460
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK = "#1d1b19"
MUTED = "#6b645c"
GRID = "#e6e1da"
STAGE_COLOURS = ("#c9d7f2", "#9bb7e8", "#5f8bd6", "#2f5fb3")
REVENUE = "#2f8f5b"
REFUNDS = "#c2453d"


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _rate(part: int, whole: int) -> str:
    """part/whole as a percentage with one decimal, rounded half up, without floats."""
    if whole <= 0:
        return "n/a"
    tenths = (part * 2000 + whole) // (2 * whole)
    return f"{tenths // 10}.{tenths % 10} %"


def _label(
    x: int,
    y: int,
    text: object,
    *,
    size: int = 13,
    anchor: str = "start",
    colour: str = INK,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{colour}"'
        f' font-weight="{weight}">{_text(text)}</text>'
    )


def funnel_svg(report: FunnelReport, title: str = "Funnel") -> str:
    currency = report.currency
    totals = report.totals
    stages = [
        ("Views", totals.views),
        ("Hotspot clicks", totals.clicks),
        ("Checkouts started", totals.checkouts),
        ("Paid orders", totals.paid_orders),
    ]
    heading = f"{title}, {report.start.isoformat()} to {report.end.isoformat()}"
    revenue = f"{to_decimal_string(totals.revenue.amount, currency)} {currency}"
    refunds = f"{to_decimal_string(totals.refunds.amount, currency)} {currency}"
    description = (
        f"{heading}: {totals.views} views, {totals.clicks} clicks, {totals.checkouts} checkouts,"
        f" {totals.paid_orders} paid orders, revenue {revenue}, refunds {refunds}."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="t d"'
        f' font-family="{_text(FONT)}">',
        f'<title id="t">{_text(heading)}</title>',
        f'<desc id="d">{_text(description)}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _label(24, 34, heading, size=17, weight="600"),
        _label(24, 56, f"Revenue {revenue} · refunds {refunds}", colour=MUTED),
    ]
    # The funnel: one bar per stage, as wide as its share of the views (or of the widest).
    widest = max([count for _, count in stages] + [1])
    left, top, bar_height, span = 180, 76, 30, 420
    for index, (name, count) in enumerate(stages):
        y = top + index * (bar_height + 10)
        width = max(count * span // widest, 2 if count else 0)
        parts.append(_label(left - 12, y + 20, name, anchor="end"))
        parts.append(
            f'<rect x="{left}" y="{y}" width="{width}" height="{bar_height}"'
            f' rx="3" fill="{STAGE_COLOURS[index]}"/>'
        )
        note = f"{count}" if index == 0 else f"{count}  ({_rate(count, stages[index - 1][1])})"
        parts.append(_label(left + width + 8, y + 20, note, colour=INK))
    # Revenue and refunds per day.
    chart_top, chart_bottom, chart_left, chart_right = 270, 410, 72, WIDTH - 24
    days = report.days
    most = max([d.revenue.amount for d in days] + [d.refunds.amount for d in days] + [1])
    parts.append(_label(24, chart_top - 14, f"Revenue per day ({currency})", weight="600"))
    parts.append(
        _label(
            chart_left - 8,
            chart_top + 4,
            to_decimal_string(most, currency),
            size=11,
            anchor="end",
            colour=MUTED,
        )
    )
    parts.append(_label(chart_left - 8, chart_bottom, "0", size=11, anchor="end", colour=MUTED))
    parts.append(
        f'<line x1="{chart_left}" y1="{chart_top}" x2="{chart_right}" y2="{chart_top}"'
        f' stroke="{GRID}"/>'
    )
    parts.append(
        f'<line x1="{chart_left}" y1="{chart_bottom}" x2="{chart_right}"'
        f' y2="{chart_bottom}" stroke="{MUTED}"/>'
    )
    slot = (chart_right - chart_left) // max(len(days), 1)
    bar = max(slot * 2 // 5, 1)
    height = chart_bottom - chart_top
    for index, day in enumerate(days):
        x = chart_left + index * slot + (slot - 2 * bar) // 2
        for offset, amount, colour in (
            (0, day.revenue.amount, REVENUE),
            (bar, day.refunds.amount, REFUNDS),
        ):
            h = amount * height // most
            if h:
                parts.append(
                    f'<rect x="{x + offset}" y="{chart_bottom - h}" width="{bar}"'
                    f' height="{h}" fill="{colour}"><title>{_text(day.day.isoformat())}:'
                    f" {_text(to_decimal_string(amount, currency))}</title></rect>"
                )
    for index in sorted({0, len(days) // 2, len(days) - 1}):
        if 0 <= index < len(days):
            x = chart_left + index * slot + slot // 2
            parts.append(
                _label(
                    x,
                    chart_bottom + 18,
                    days[index].day.isoformat(),
                    size=11,
                    anchor="middle",
                    colour=MUTED,
                )
            )
    legend_y = HEIGHT - 12
    parts.append(
        f'<rect x="{chart_left}" y="{legend_y - 10}" width="10" height="10" fill="{REVENUE}"/>'
    )
    parts.append(_label(chart_left + 16, legend_y, "revenue", size=11, colour=MUTED))
    parts.append(
        f'<rect x="{chart_left + 90}" y="{legend_y - 10}" width="10" height="10" fill="{REFUNDS}"/>'
    )
    parts.append(_label(chart_left + 106, legend_y, "refunds", size=11, colour=MUTED))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
