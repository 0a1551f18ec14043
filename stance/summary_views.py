"""The summary for people: a terminal table, Markdown, JSON, and one self-contained HTML page (a
speaker × stance chart and tables whose every count links to the sentences behind it, per article
and overall; no script, no outside resources)."""

from __future__ import annotations

import html
import json

from .formats import PALETTE
from .summary import Cell, Part, Summary

#: What ``stance summarize --format`` writes.
SUMMARY_FORMATS = ("table", "json", "markdown", "html")
#: The terminal table fits this many columns.
WIDTH = 100

_BAR_HEIGHT, _GAP, _LABEL_WIDTH, _CHART_WIDTH = 14, 10, 190, 420


def render_html(summary: Summary) -> str:
    stances = sorted({c.stance for c in summary.overall.cells})
    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(stances)}
    body = [f"<h1>Who holds which position: {html.escape(_title(summary.overall))}</h1>",
            _legend(colours), _chart(summary.overall, stances, colours), _matrix(summary.overall, "all", stances)]
    if summary.by_month:
        body.append(_months(summary))
    for number, part in enumerate(summary.articles):
        body += [f'<h2 id="article-{number}">{html.escape(_title(part))}</h2>', _matrix(part, f"a{number}", stances)]
    body.append("<h2>Sentences behind each count</h2>")
    body += [_evidence(cell, "all") for cell in summary.overall.cells]
    for number, part in enumerate(summary.articles):
        body += [_evidence(cell, f"a{number}") for cell in part.cells]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stance summary</title><style>"
            "body{font:15px/1.5 Georgia,serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
            "th:first-child,td:first-child{text-align:left}.tag{display:inline-block;padding:0 .5em;margin-right:.5em;"
            "border-radius:3px}section{border-top:1px solid #ddd;margin-top:1em}blockquote{margin:.3em 1em}"
            "small{color:#666}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _legend(colours: dict[str, str]) -> str:
    tags = "".join(f'<span class="tag" style="background:{c}">{html.escape(s)}</span>' for s, c in colours.items())
    return f'<p id="legend">{tags}</p>'


def _chart(part: Part, stances: list[str], colours: dict[str, str]) -> str:
    """Horizontal bars, one group per speaker, one bar per stance; each bar links to its sentences."""
    speakers = sorted({c.speaker for c in part.cells})
    cells = {(c.speaker, c.stance): c for c in part.cells}
    largest = max((c.count for c in part.cells), default=1)
    group = len(stances) * _BAR_HEIGHT + _GAP
    height = max(group * len(speakers), _BAR_HEIGHT)
    items = []
    for row, speaker in enumerate(speakers):
        top = row * group
        items.append(f'<text x="0" y="{top + _BAR_HEIGHT}" font-size="12">{html.escape(speaker)}</text>')
        for column, stance in enumerate(stances):
            cell = cells.get((speaker, stance))
            if cell is None:
                continue
            width = max(2, round(_CHART_WIDTH * cell.count / largest))
            y = top + column * _BAR_HEIGHT
            label = f"{speaker} · {stance}: {cell.count} sentences, mean score {cell.mean_score:.2f}"
            items.append(f'<a href="#all-{cell.key}"><rect class="bar" x="{_LABEL_WIDTH}" y="{y}" width="{width}" '
                         f'height="{_BAR_HEIGHT - 2}" fill="{colours[stance]}"><title>{html.escape(label)}</title></rect>'
                         f'<text x="{_LABEL_WIDTH + width + 4}" y="{y + _BAR_HEIGHT - 3}" font-size="11">{cell.count}'
                         f'</text></a>')
    return (f'<svg id="chart" role="img" aria-label="sentences per speaker and stance" width="{_LABEL_WIDTH + _CHART_WIDTH + 40}" '
            f'height="{height}" xmlns="http://www.w3.org/2000/svg">' + "".join(items) + "</svg>")


def _matrix(part: Part, prefix: str, stances: list[str]) -> str:
    if not part.cells:
        return "<p>No position found.</p>"
    cells = {(c.speaker, c.stance): c for c in part.cells}
    head = "".join(f"<th>{html.escape(s)}</th>" for s in stances)
    rows = []
    for speaker in sorted({c.speaker for c in part.cells}):
        counts = []
        for stance in stances:
            cell = cells.get((speaker, stance))
            counts.append("<td></td>" if cell is None else
                          f'<td><a href="#{prefix}-{cell.key}">{cell.count}</a> <small>{cell.mean_score:.2f}</small></td>')
        rows.append(f"<tr><td>{html.escape(speaker)}</td>{''.join(counts)}</tr>")
    return (f'<table class="matrix" data-part="{prefix}"><tr><th>speaker \\ stance</th>{head}</tr>'
            + "".join(rows) + "</table><p><small>count of sentences (mean score)</small></p>")


def _months(summary: Summary) -> str:
    rows = "".join(f"<tr><td>{month}</td><td>{html.escape(key)}</td><td>{n}</td></tr>"
                   for month, counts in summary.by_month.items() for key, n in counts.items())
    return f"<h2>Positions per month</h2><table><tr><th>month</th><th>position</th><th>sentences</th></tr>{rows}</table>"


def _evidence(cell: Cell, prefix: str) -> str:
    items = []
    for e in cell.sentences:
        source = f" — source: <q>{html.escape(e.source.text)}</q>" if e.source is not None else ""
        items.append(f"<li><small>{html.escape(e.article)} sentence {e.index}, characters {e.start}–{e.end}, "
                     f"score {e.score:.2f}{source}</small><blockquote>{html.escape(e.text)}</blockquote></li>")
    where = "all articles" if prefix == "all" else "this article"
    return (f'<section id="{prefix}-{cell.key}"><h3>{html.escape(cell.speaker)} · {html.escape(cell.stance)} '
            f'({cell.count} in {where})</h3><ol>{"".join(items)}</ol></section>')


def render(summary: Summary, fmt: str) -> str:
    """The summary in one of :data:`SUMMARY_FORMATS`."""
    if fmt == "json":
        return json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return render_html(summary)
    return (render_markdown if fmt == "markdown" else render_table)(summary)


def _title(part: Part) -> str:
    name = "all articles" if part.article is None else part.article
    dated = f", {part.date}" if part.date else ""
    return f"{name} ({part.sentences} sentences{dated})"


def _strongest(cell: Cell) -> str:
    e = cell.strongest
    source = f" [{e.source.text}]" if e.source is not None else ""
    return f"{e.article}:{e.start}-{e.end}{source} {' '.join(e.text.split())}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render_table(summary: Summary) -> str:
    """Plain text for a terminal: each table fits :data:`WIDTH` columns, long sentences cut with "…"."""
    out = []
    for part in (summary.overall, *summary.articles):
        out.append(_title(part))
        if not part.cells:
            out += ["  no position found", ""]
            continue
        speaker_w = min(20, max(7, *(len(c.speaker) for c in part.cells)))
        stance_w = min(18, max(6, *(len(c.stance) for c in part.cells)))
        rest = WIDTH - (2 + speaker_w + 1 + stance_w + 1 + 5 + 1 + 5 + 1)
        out.append(f"  {'speaker':<{speaker_w}} {'stance':<{stance_w}} {'sent.':>5} {'mean':>5} strongest sentence")
        for c in part.cells:
            out.append(f"  {_clip(c.speaker, speaker_w):<{speaker_w}} {_clip(c.stance, stance_w):<{stance_w}} "
                       f"{c.count:>5} {c.mean_score:>5.2f} {_clip(_strongest(c), rest)}")
        out.append("")
    if summary.by_month:
        out.append("positions per month (sentences)")
        for month, counts in summary.by_month.items():
            line = ", ".join(f"{key} {n}" for key, n in sorted(counts.items(), key=lambda kv: -kv[1]))
            out.append(_clip(f"  {month}  {line}", WIDTH))
        out.append("")
    return "\n".join(out)


def render_markdown(summary: Summary) -> str:
    """The same tables for a report or an issue."""
    out = []
    for part in (summary.overall, *summary.articles):
        out += [f"## {_title(part)}", ""]
        if not part.cells:
            out += ["No position found.", ""]
            continue
        out += ["| speaker | stance | sentences | mean score | strongest sentence |", "|---|---|---:|---:|---|"]
        for c in part.cells:
            strongest = _strongest(c).replace("|", "\\|")
            out.append(f"| {c.speaker} | {c.stance} | {c.count} | {c.mean_score:.2f} | {strongest} |")
        out.append("")
    if summary.by_month:
        out += ["## Positions per month", "", "| month | position | sentences |", "|---|---|---:|"]
        out += [f"| {month} | {key} | {n} |" for month, counts in summary.by_month.items() for key, n in counts.items()]
        out.append("")
    return "\n".join(out)
