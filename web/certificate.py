"""A certificate of completion: its PDF and its public verification page.

Both are drawn from the certificate's snapshot (what was met when it was issued),
so they read the same after the cohort changes. The verification page is public:
it says whether the certificate is valid or revoked, whose it is, for which
cohort and when it was issued, and nothing else about the person.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from storage.certificates import Certificate
from web.logbook_export import UNICODE_FONTS


def day(ms: int) -> str:
    """A UTC date, written out (a certificate is read worldwide: no local zone)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment.day} {moment:%B %Y}"


def _done(item: dict[str, Any]) -> str:
    """What was completed for one requirement, in words."""
    unit, done, needed = item.get("unit"), int(item.get("done", 0)), int(item.get("needed", 0))
    label = str(item.get("label", item.get("requirement", "")))
    if unit == "minutes":
        return f"{label}: {done / 60:.1f} of {needed // 60} required"
    if unit in ("notes", "entries"):
        return f"{label}: {done} of {needed}"
    return f"{label}: {done} (required {needed})"


def completed(cert: Certificate) -> list[str]:
    return [_done(dict(i)) for i in cert.snapshot.get("items", []) if isinstance(i, dict)]


def to_pdf(cert: Certificate, verify_url: str) -> bytes:
    from fpdf import FPDF  # fpdf (numpy, Pillow) takes ~0.7 s to import: only an export loads it

    pdf = FPDF(orientation="landscape", format="A4")
    regular, bold = UNICODE_FONTS
    if regular.exists() and bold.exists():
        pdf.add_font("Body", "", str(regular))
        pdf.add_font("Body", "B", str(bold))
        font = "Body"
    else:
        font = "Helvetica"

    def t(value: str) -> str:
        return value if font == "Body" else value.encode("latin-1", "replace").decode("latin-1")

    snap = cert.snapshot
    name, cohort = str(snap.get("name", "")), str(snap.get("cohort", ""))
    pdf.set_title(f"Certificate of completion - {name}")
    pdf.set_creator("Caucus")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    w = pdf.epw

    def line(text: str, size: float, style: str = "", height: float = 8) -> None:
        pdf.set_font(font, style, size)
        pdf.multi_cell(w, height, t(text), align="C", new_x="LMARGIN", new_y="NEXT")

    pdf.set_line_width(1.2)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_y(28)
    line("Certificate of completion", 28, "B", 14)
    pdf.ln(6)
    line("This certifies that", 13)
    line(name, 24, "B", 13)
    line("has completed the mediation practice required by", 13)
    line(cohort, 18, "B", 10)
    line(f"{snap.get('starts_on', '')} to {snap.get('ends_on', '')}", 12)
    pdf.ln(4)
    for text in completed(cert):
        line(text, 11, "", 6)
    pdf.ln(6)
    line(f"Issued {day(cert.issued_ms)} by Caucus", 11)
    pdf.set_y(pdf.h - 30)
    line(f"Verify this certificate: {verify_url}", 10, "", 6)
    line(f"Certificate {cert.id}", 8, "", 5)
    return bytes(pdf.output())


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/caucus.css">
  <link rel="stylesheet" href="/static/progress.css">
</head>
<body>
  <main id="main" class="certificate-check">
    <h1>Certificate of completion</h1>
    {body}
  </main>
</body>
</html>
"""


def verification_html(cert: Certificate | None) -> str:
    """The public page at /certificates/{id}: valid or revoked, name, cohort, dates."""
    if cert is None:
        body = (
            '<p class="verdict unknown" id="verdict">Not found</p>'
            "<p>No certificate has this address. Check the link you were given.</p>"
        )
        return _PAGE.format(title="Certificate not found — Caucus", body=body)
    snap = cert.snapshot
    status = "valid" if cert.valid else "revoked"
    verdict = "Valid" if cert.valid else f"Revoked on {day(cert.revoked_ms or 0)}"
    rows = [
        ("Awarded to", str(snap.get("name", ""))),
        ("Cohort", str(snap.get("cohort", ""))),
        ("Course dates", f"{snap.get('starts_on', '')} to {snap.get('ends_on', '')}"),
        ("Issued", day(cert.issued_ms)),
    ]
    items = "".join(f"<li>{escape(text)}</li>" for text in completed(cert))
    body = (
        f'<p class="verdict {status}" id="verdict">{escape(verdict)}</p>'
        '<dl class="facts">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
        + "</dl>"
        + (f"<h2>Completed</h2><ul>{items}</ul>" if items else "")
        + f'<p class="hint">Certificate {escape(cert.id)}, issued by Caucus.</p>'
    )
    return _PAGE.format(title=f"Certificate {status} — Caucus", body=body)
