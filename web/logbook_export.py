"""A logbook as a recognition body reads it: CSV, a printable page, a PDF.

All three say the same: whose logbook, the period, totals by role and hours, and
every entry with its feedback and reflections. Times are shown in the owner's
time zone, the zone named. The CSV is RFC 4180 (CRLF, quotes doubled) in UTF-8
with a BOM so spreadsheet apps read it as UTF-8, and a cell that would start a
formula (= + - @, tab, carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from sessions.logbook import Entry, Source, Totals, totals
from storage.logbook import StoredEntry

#: a Unicode font for the PDF when the system has it (Debian: fonts-dejavu-core);
#: without it the PDF falls back to Helvetica, which has Latin-1 only
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
DECLARATION = "I confirm that this logbook is a true record of my mediation practice."
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Logbook:
    """What an export shows."""

    name: str
    email: str
    time_zone: str
    period: str  # e.g. "2026-01-05 to 2026-06-30", or "all entries"
    generated_ms: int
    entries: Sequence[StoredEntry]

    @property
    def totals(self) -> Totals:
        return totals(e.entry for e in self.entries)


def local(ms: int, time_zone: str) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(time_zone))
    return f"{moment:%Y-%m-%d %H:%M}"


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def ratings_text(entry: Entry) -> str:
    return "; ".join(
        f"{r.name or r.skill}: {r.average:g} ({r.count})" for r in entry.feedback.ratings
    )


def feedback_text(entry: Entry) -> str:
    """ "3 notes · Opening statement: 4.5 (2)"; a dash for practice entered by hand."""
    if entry.source is Source.MANUAL:
        return "—"
    count = entry.feedback.count
    text = f"{count} {'note' if count == 1 else 'notes'}"
    return f"{text} · {ratings_text(entry)}" if entry.feedback.ratings else text


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


CSV_COLUMNS = (
    "Date",
    "Time zone",
    "Duration (min)",
    "Role",
    "Medium",
    "Scenario",
    "Coach",
    "Co-participants",
    "Feedback notes",
    "Ratings",
    "Went well",
    "Challenging",
    "What next",
    "Source",
)


def to_csv(book: Logbook) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for stored in book.entries:
        e = stored.entry
        row = [
            local(e.at_ms, book.time_zone),
            book.time_zone,
            str(e.duration_min),
            e.role.label,
            e.medium.label,
            e.scenario,
            e.coach or "",
            "; ".join(e.co_participants),
            str(e.feedback.count),
            ratings_text(e),
            e.reflections.went_well,
            e.reflections.challenging,
            e.reflections.next_steps,
            e.source.value,
        ]
        writer.writerow([safe_cell(c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- the printable page --------------------------------------------------------------------


def _totals_html(book: Logbook) -> str:
    t = book.totals
    rows = "".join(
        f"<tr><th scope='row'>{escape(role.label)}</th><td>{n}</td><td>{hours(m)}</td></tr>"
        for role, n, m in t.by_role
    )
    return (
        "<table class='totals'><caption>Totals</caption>"
        "<thead><tr><th scope='col'>Role</th><th scope='col'>Sessions</th>"
        "<th scope='col'>Hours</th></tr></thead>"
        f"<tbody>{rows}</tbody><tfoot><tr><th scope='row'>All</th><td>{t.sessions}</td>"
        f"<td>{hours(t.minutes)}</td></tr></tfoot></table>"
    )


def _entry_html(stored: StoredEntry, time_zone: str) -> str:
    e = stored.entry
    facts = [
        ("Duration", f"{e.duration_min} min"),
        ("Role", e.role.label),
        ("Medium", e.medium.label),
        ("Coach", e.coach or "—"),
        ("With", ", ".join(e.co_participants) or "—"),
        ("Feedback", feedback_text(e)),
        ("Source", "Caucus simulation" if e.source.value == "caucus" else "entered by hand"),
    ]
    reflections = [
        ("Went well", e.reflections.went_well),
        ("Challenging", e.reflections.challenging),
        ("What next", e.reflections.next_steps),
    ]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    written = "".join(
        f"<h4>{escape(k)}</h4><p>{escape(v)}</p>" for k, v in reflections if v.strip()
    )
    return (
        f"<article class='entry' data-id='{escape(stored.id)}'>"
        f"<h3><time>{escape(local(e.at_ms, time_zone))}</time> · {escape(e.scenario)}</h3>"
        f"<dl>{dl}</dl>{written}</article>"
    )


def to_html(book: Logbook) -> str:
    entries = "".join(_entry_html(s, book.time_zone) for s in book.entries) or (
        "<p>No entries in this period.</p>"
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Mediation logbook — {escape(book.name)}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/logbook-print.css">
</head>
<body class="logbook-print">
  <header>
    <h1>Mediation logbook</h1>
    <p class="who"><strong>{escape(book.name)}</strong> · {escape(book.email)}</p>
    <p class="meta">Period: {escape(book.period)} · Times in {escape(book.time_zone)} ·
      Generated {escape(local(book.generated_ms, book.time_zone))} by Caucus</p>
  </header>
  <main>
    {_totals_html(book)}
    <h2>Entries</h2>
    {entries}
  </main>
  <footer class="declaration">
    <p>{escape(DECLARATION)}</p>
    <p class="sign">Signature ______________________ &nbsp; Date ______________</p>
  </footer>
</body>
</html>
"""
