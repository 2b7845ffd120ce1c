"""The progression report as one self-contained HTML file: counts, a table, a chart.

Written for deciding who needs help first: the counts per status come first, the table is
sorted by urgency (at risk, referred, not started, on track, eligible, interrupted,
withdrawn; then by the nearest deadline), each status is a badge that says its name in text
on a colour, and the page says when the data was last synchronised from Moodle. Dates stay on
one line and name their time zone. The chart draws what counts toward each participant's
target award (prior learning at its capped value) against that award's threshold only, so it
never shows a bar past a line the rules say was not reached.

Nothing is fetched: the CSS and the SVG chart are inline, so the file can be mailed, opened
offline and printed. Accessibility is part of the content, not decoration: the table has a
caption and header cells with scope, the chart is an image with a title and a text summary
that says what it shows, and every colour keeps at least 4.5:1 contrast with its text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from moodle_sync.rules.policy import Programme
from moodle_sync.support.reports import ProgressionRow, local_text, module_columns

# Dark enough for 4.5:1 on white (text and bars alike), distinct from each other.
PALETTE = ("#1f4e79", "#9c4a00", "#2e6b30", "#7a2a5e", "#5c3d99", "#6b5a00", "#0f5a66", "#a02020")
PRIOR_COLOUR = "#595959"
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, TOP = 200, 520, 24, 36
# Most urgent first; each status's label and badge colour (white text, >= 4.5:1).
STATUSES = {
    "at_risk": ("At risk", "#a02020"),
    "referred": ("Referred", "#9c4a00"),
    "not_started": ("Not started", "#595959"),
    "on_track": ("On track", "#1f4e79"),
    "eligible_masters": ("Eligible: Masters", "#2e6b30"),
    "eligible_pg_diploma": ("Eligible: PG Diploma", "#2e6b30"),
    "eligible_pg_certificate": ("Eligible: PG Certificate", "#2e6b30"),
    "interrupted": ("Interrupted", "#5c3d99"),
    "withdrawn": ("Withdrawn", "#3d3d3d"),
}

CSS = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; background: #ffffff;
       margin: 1.5rem; line-height: 1.4; }
h1 { font-size: 1.5rem; } .when { white-space: nowrap; }
.badge { display: inline-block; color: #ffffff; border-radius: .3em; padding: .05em .45em;
         font-weight: bold; white-space: nowrap; }
ul.counts { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; }
.scroll { overflow-x: auto; } svg.chart { max-width: 100%; height: auto; }
caption { text-align: left; font-weight: bold; padding: .5rem 0; }
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


def render_html(
    rows: Sequence[ProgressionRow],
    programme: Programme,
    now: dt.datetime,
    synced: dt.datetime | None = None,
) -> str:
    rows = by_urgency(rows)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Progression: {escape(programme.name)}</title><style>{CSS}</style></head>"
        f"<body><main><h1>Progression: {escape(programme.name)}</h1>"
        f"{freshness(now, synced, programme)}{counts(rows)}"
        f"{table(rows, programme)}{chart(rows, programme)}</main></body></html>\n"
    )


def by_urgency(rows: Sequence[ProgressionRow]) -> list[ProgressionRow]:
    """Most urgent status first; within one, the nearest deadline first, then by name."""
    order = {status: i for i, status in enumerate(STATUSES)}
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(
        rows, key=lambda r: (order.get(r.status, len(order)), r.next_deadline or far, r.name)
    )


def freshness(now: dt.datetime, synced: dt.datetime | None, programme: Programme) -> str:
    computed = f'<span class="when">{escape(local_text(now, programme))}</span>'
    if synced is None:
        return (
            "<p><strong>No synchronisation with Moodle has finished yet</strong>: run "
            f"<code>moodle-sync sync</code> first. Statuses computed at {computed}.</p>"
        )
    last = f'<span class="when">{escape(local_text(synced, programme))}</span>'
    return f"<p>Data last synchronised from Moodle at {last}; statuses computed at {computed}.</p>"


def badge(status: str) -> str:
    label, colour = STATUSES.get(status, (status.replace("_", " "), "#3d3d3d"))
    return f'<span class="badge" style="background:{colour}">{escape(label)}</span>'


def counts(rows: Sequence[ProgressionRow]) -> str:
    """How many participants have each status, most urgent first."""
    tally: dict[str, int] = {}
    for row in rows:
        tally[row.status] = tally.get(row.status, 0) + 1
    items = "".join(f"<li>{badge(status)} {n}</li>" for status, n in tally.items())
    return f'<h2 id="counts">Participants by status</h2><ul class="counts">{items}</ul>'


def colours(programme: Programme) -> dict[str, str]:
    codes = module_columns(programme)
    return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}


def summary(rows: Sequence[ProgressionRow], programme: Programme) -> str:
    """The chart in words: credits counted toward each target award, and who is eligible."""
    if not rows:
        return "No participants are enrolled in the programme's courses."
    totals = [r.total for r in rows]
    mean = sum(totals) / len(totals)
    eligible = [
        f"{sum(r.eligible == a.title for r in rows)} eligible for {a.title}"
        for a in reversed(programme.ranked_awards)
    ]
    reached = sum(r.total >= target_credits(r, programme) for r in rows)
    return (
        f"Credits counted toward each participant's target award range from {min(totals)} "
        f"to {max(totals)} (mean {mean:.0f}); {reached} of {len(rows)} have their target's "
        f"credits. " + "; ".join(eligible) + " (the highest award each one meets)."
    )


def target_credits(row: ProgressionRow, programme: Programme) -> int:
    found = [a.credits for a in programme.awards.values() if a.title == row.target_award]
    return found[0] if found else 0


def targets(rows: Sequence[ProgressionRow], programme: Programme) -> list[tuple[int, str]]:
    """The threshold of every award someone is aiming for: the only lines the chart draws."""
    aimed = {row.target_award for row in rows}
    return [(a.credits, a.title) for a in programme.ranked_awards if a.title in aimed]


def chart(rows: Sequence[ProgressionRow], programme: Programme) -> str:
    lines = targets(rows, programme)
    scale = max([credits for credits, _ in lines] + [r.total for r in rows] + [1])
    height = TOP + ROW_HEIGHT * len(rows) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 20
    palette = colours(programme)
    parts = [_bars(i, r, palette, scale) for i, r in enumerate(rows)]
    parts += [_target(i, target_credits(r, programme), scale) for i, r in enumerate(rows)]
    parts += [_threshold_label(credits, title, _x(credits, scale)) for credits, title in lines]
    prior = "Prior learning (counted up to the cap for the target award)"
    legend = "".join(
        f'<span><span class="swatch" style="background:{c}"></span>{escape(code)}</span>'
        for code, c in [*palette.items(), (prior, PRIOR_COLOUR)]
    )
    said = "; ".join(f"{credits} credits, {escape(title)}" for credits, title in lines)
    return (
        '<figure><figcaption id="chart-title"><strong>Credits counted toward each '
        "participant's target award, by module</strong></figcaption>"
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-labelledby="chart-title" '
        'aria-describedby="chart-summary"><title>Credits per participant</title>'
        f'{"".join(parts)}</svg><p class="legend">{legend}</p><p>Dashed marks: each '
        f"participant's target award ({said}).</p>"
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


def _target(index: int, credits: int, scale: float) -> str:
    """The row's own target: a dashed mark across its bar only, at its award's credits."""
    at, y = _x(credits, scale), TOP + index * ROW_HEIGHT
    return (
        f'<line class="threshold" x1="{at:.1f}" y1="{y}" x2="{at:.1f}" y2="{y + ROW_HEIGHT}" '
        'stroke="#000000" stroke-width="1.5" stroke-dasharray="4 3"/>'
    )


def _threshold_label(credits: int, title: str, at: float) -> str:
    return (
        f'<text x="{at:.1f}" y="{TOP - 12}" text-anchor="middle">{credits}'
        f"<title>{escape(title)}: {credits} credits</title></text>"
    )


def table(rows: Sequence[ProgressionRow], programme: Programme) -> str:
    codes = module_columns(programme)
    heads = [
        "Status",
        "Reasons",
        "Next deadline",
        "Target award",
        *codes,
        "Prior learning",
        "Total",
        "Award eligible",
        "Classification so far",
    ]
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in ["Participant", *heads])
    body = "".join(_table_row(r, codes, programme) for r in rows)
    return (
        '<div class="scroll" role="region" aria-labelledby="table-caption" tabindex="0">'
        f'<table><caption id="table-caption">Progression of {len(rows)} participants, most '
        "urgent first: credits by module toward each one's target award</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _table_row(row: ProgressionRow, codes: list[str], programme: Programme) -> str:
    numbers = [row.credits[c] for c in codes] + [row.prior, row.total]
    deadline = local_text(row.next_deadline, programme) or "none"
    cells = [
        f"<td>{badge(row.status)}</td>",
        f"<td>{escape('; '.join(row.reasons))}</td>",
        f'<td class="when">{escape(deadline)}</td>',
        f"<td>{escape(row.target_award)}</td>",
    ]
    cells += [f'<td class="num">{n}</td>' for n in numbers]
    cells += [f"<td>{escape(t)}</td>" for t in (row.eligible or "none yet",
                                                 row.classification or "none yet")]  # fmt: skip
    return f'<tr><th scope="row">{escape(row.name)}</th>{"".join(cells)}</tr>'
