"""The progression report as one self-contained HTML file: a table, a chart, a summary.

Nothing is fetched: the CSS and the SVG chart are inline, so the file can be mailed, opened
offline and printed. Accessibility is part of the content, not decoration: the table has a
caption and header cells with scope, the chart is an image with a title and a text summary
that says what it shows, and every colour keeps at least 4.5:1 contrast on white.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from moodle_sync.reports import ProgressionRow, local_text, module_columns
from moodle_sync.rules.policy import Programme

# Dark enough for 4.5:1 on white (text and bars alike), distinct from each other.
PALETTE = ("#1f4e79", "#9c4a00", "#2e6b30", "#7a2a5e", "#5c3d99", "#6b5a00", "#0f5a66", "#a02020")
PRIOR_COLOUR = "#595959"
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, TOP = 200, 520, 24, 36

CSS = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; background: #ffffff;
       margin: 1.5rem; line-height: 1.4; }
h1 { font-size: 1.5rem; } caption { text-align: left; font-weight: bold; padding: .5rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #767676; padding: .25rem .4rem; text-align: left;
         vertical-align: top; }
thead th { background: #e8e8e8; } td.num { text-align: right; }
.legend span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .3em;
          vertical-align: middle; }
svg text { font-size: 12px; fill: #1a1a1a; }
@media print {
  body { margin: 0; font-size: 9pt; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  figure { break-inside: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
"""


def render_html(rows: Sequence[ProgressionRow], programme: Programme, now: dt.datetime) -> str:
    generated = local_text(now, programme)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Progression: {escape(programme.name)}</title><style>{CSS}</style></head>"
        f"<body><h1>Progression: {escape(programme.name)}</h1>"
        f"<p>Computed from the stored Moodle data at {generated} ({programme.timezone}).</p>"
        f"{chart(rows, programme)}{table(rows, programme)}</body></html>\n"
    )


def colours(programme: Programme) -> dict[str, str]:
    codes = module_columns(programme)
    return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}


def summary(rows: Sequence[ProgressionRow], programme: Programme) -> str:
    """The chart in words: how many reach each award's credits, and the range."""
    if not rows:
        return "No participants are enrolled in the programme's courses."
    parts = [
        f"{sum(r.total >= a.credits for r in rows)} of {len(rows)} have at least "
        f"{a.credits} credits ({a.title})"
        for a in programme.ranked_awards
    ]
    totals = [r.total for r in rows]
    mean = sum(totals) / len(totals)
    return (
        f"Credits per participant range from {min(totals)} to {max(totals)} "
        f"(mean {mean:.0f}). " + "; ".join(parts) + "."
    )


def chart(rows: Sequence[ProgressionRow], programme: Programme) -> str:
    scale = max([a.credits for a in programme.awards.values()] + [r.total for r in rows] + [1])
    height = TOP + ROW_HEIGHT * len(rows) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 20
    palette = colours(programme)
    parts = [_bars(i, r, palette, scale) for i, r in enumerate(rows)]
    parts += [
        _threshold(a.credits, a.title, _x(a.credits, scale), height)
        for a in programme.ranked_awards
    ]
    legend = "".join(
        f'<span><span class="swatch" style="background:{c}"></span>{escape(code)}</span>'
        for code, c in [*palette.items(), ("Prior learning", PRIOR_COLOUR)]
    )
    lines = "; ".join(f"{a.credits} credits, {escape(a.title)}" for a in programme.ranked_awards)
    return (
        '<figure><figcaption id="chart-title"><strong>Credits per participant, by module, '
        "against the award thresholds</strong></figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="chart-title" '
        'aria-describedby="chart-summary"><title>Credits per participant</title>'
        f'{"".join(parts)}</svg><p class="legend">{legend}</p><p>Dashed lines: {lines}.</p>'
        f'<p id="chart-summary">{escape(summary(rows, programme))}</p></figure>'
    )


def _x(credits: float, scale: float) -> float:
    return LABEL_WIDTH + credits * BAR_WIDTH / scale


def _bars(index: int, row: ProgressionRow, palette: dict[str, str], scale: float) -> str:
    y = TOP + index * ROW_HEIGHT
    out = [f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(row.name)}</text>']
    start = 0
    segments = [("Prior learning", row.prior, PRIOR_COLOUR)]
    segments += [(code, row.credits[code], palette[code]) for code in palette]
    for label, credits, colour in segments:
        if credits <= 0:
            continue
        left, right = _x(start, scale), _x(start + credits, scale)
        out.append(
            f'<rect class="segment" x="{left:.1f}" y="{y + 3}" width="{right - left:.1f}" '
            f'height="{ROW_HEIGHT - 6}" fill="{colour}" stroke="#ffffff">'
            f"<title>{escape(row.name)}: {escape(label)} {credits} credits</title></rect>"
        )
        start += credits
    return "".join(out)


def _threshold(credits: int, title: str, at: float, height: int) -> str:
    return (
        f'<line class="threshold" x1="{at:.1f}" y1="{TOP - 8}" x2="{at:.1f}" y2="{height}" '
        'stroke="#000000" stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<text x="{at:.1f}" y="{TOP - 12}" text-anchor="middle">{credits}'
        f"<title>{escape(title)}: {credits} credits</title></text>"
    )


def table(rows: Sequence[ProgressionRow], programme: Programme) -> str:
    codes = module_columns(programme)
    heads = [
        "Target award",
        *codes,
        "Prior learning",
        "Total",
        "Award eligible",
        "Classification so far",
        "Status",
        "Reasons",
        "Next deadline",
    ]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in ["Participant", *heads])
    body = "".join(_table_row(r, codes, programme) for r in rows)
    return (
        f"<table><caption>Progression of {len(rows)} participants: credits by module "
        f"toward each one's target award</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _table_row(row: ProgressionRow, codes: list[str], programme: Programme) -> str:
    numbers = [row.credits[c] for c in codes] + [row.prior, row.total]
    cells = [f"<td>{escape(row.target_award)}</td>"]
    cells += [f'<td class="num">{n}</td>' for n in numbers]
    texts = [
        row.eligible or "none yet",
        row.classification or "none yet",
        row.status.replace("_", " "),
        "; ".join(row.reasons),
        local_text(row.next_deadline, programme) or "none",
    ]
    cells += [f"<td>{escape(t)}</td>" for t in texts]
    return f'<tr><th scope="row">{escape(row.name)}</th>{"".join(cells)}</tr>'
