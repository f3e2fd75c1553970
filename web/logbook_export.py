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

from fpdf import FPDF

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


# --- PDF ----------------------------------------------------------------------------------------


class _Pdf(FPDF):
    def __init__(self, owner: str) -> None:
        super().__init__(format="A4")
        self.owner = owner
        regular, bold = UNICODE_FONTS
        if regular.exists() and bold.exists():
            self.add_font("Body", "", str(regular))
            self.add_font("Body", "B", str(bold))
            self.body_font = "Body"
        else:
            self.body_font = "Helvetica"
        self.set_auto_page_break(True, margin=15)
        self.set_margins(15, 15, 15)

    def text_of(self, value: str) -> str:
        if self.body_font == "Helvetica":  # Latin-1 only
            return value.encode("latin-1", "replace").decode("latin-1")
        return value

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_font, "", 8)
        self.cell(
            0,
            5,
            self.text_of(f"{self.owner} · mediation logbook · page {self.page_no()}"),
            align="C",
        )


def to_pdf(book: Logbook, compress: bool = True) -> bytes:
    pdf = _Pdf(book.name)
    pdf.set_compression(compress)
    pdf.set_title(f"Mediation logbook - {book.name}")
    pdf.set_creator("Caucus")
    pdf.add_page()
    w = pdf.epw
    t = pdf.text_of

    def line(text: str, size: float = 10, style: str = "", height: float = 5.5) -> None:
        pdf.set_font(pdf.body_font, style, size)
        pdf.multi_cell(w, height, t(text), new_x="LMARGIN", new_y="NEXT")

    line("Mediation logbook", 18, "B", 9)
    line(f"{book.name} · {book.email}", 11, "B")
    line(
        f"Period: {book.period} · Times in {book.time_zone} · "
        f"Generated {local(book.generated_ms, book.time_zone)} by Caucus",
        9,
    )
    pdf.ln(3)
    totals_ = book.totals
    line("Totals", 13, "B", 7)
    pdf.set_font(pdf.body_font, "B", 10)
    widths = (w * 0.5, w * 0.25, w * 0.25)
    for text, width in zip(("Role", "Sessions", "Hours"), widths, strict=True):
        pdf.cell(width, 6, t(text), border="B")
    pdf.ln()
    pdf.set_font(pdf.body_font, "", 10)
    rows = [(r.label, str(n), hours(m)) for r, n, m in totals_.by_role]
    rows.append(("All", str(totals_.sessions), hours(totals_.minutes)))
    for row in rows:
        for text, width in zip(row, widths, strict=True):
            pdf.cell(width, 6, t(text))
        pdf.ln()
    pdf.ln(3)
    line("Entries", 13, "B", 7)
    if not book.entries:
        line("No entries in this period.")
    for stored in book.entries:
        e = stored.entry
        line(f"{local(e.at_ms, book.time_zone)} · {e.scenario}", 11, "B", 6)
        line(
            f"{e.duration_min} min · {e.role.label} · {e.medium.label} · Coach: {e.coach or '-'}"
            f" · With: {', '.join(e.co_participants) or '-'}",
            9,
        )
        line(f"Feedback: {feedback_text(e)}", 9)
        for label, text in (
            ("Went well", e.reflections.went_well),
            ("Challenging", e.reflections.challenging),
            ("What next", e.reflections.next_steps),
        ):
            if text.strip():
                line(f"{label}: {text}", 9)
        pdf.ln(2)
    pdf.ln(4)
    line(DECLARATION, 10)
    pdf.ln(6)
    line("Signature ______________________    Date ______________", 10)
    return bytes(pdf.output())
