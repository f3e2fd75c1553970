"""A shared feedback digest as a PDF (fpdf2, like the logbook's): whose, by whom, when,
which version, and its three sections."""

from __future__ import annotations

from sessions.people import Person
from storage.digests import Digest
from web.logbook_export import UNICODE_FONTS, local

HEADINGS = {"strengths": "Strengths", "develop": "Areas to develop", "next_steps": "Next steps"}


def to_pdf(digest: Digest, trainee: Person, compress: bool = True) -> bytes:
    from fpdf import FPDF  # fpdf (numpy, Pillow) takes ~0.7 s to import: only an export loads it

    pdf = FPDF(format="A4")
    regular, bold = UNICODE_FONTS
    font = "Helvetica"
    if regular.exists() and bold.exists():
        pdf.add_font("Body", "", str(regular))
        pdf.add_font("Body", "B", str(bold))
        font = "Body"

    def t(value: str) -> str:
        if font == "Helvetica":  # Latin-1 only
            return value.encode("latin-1", "replace").decode("latin-1")
        return value

    pdf.set_compression(compress)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(f"Feedback digest - {trainee.name}")
    pdf.set_creator("Caucus")
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "", height: float = 5.5) -> None:
        pdf.set_font(font, style, size)
        pdf.multi_cell(pdf.epw, height, t(text), new_x="LMARGIN", new_y="NEXT")

    line("Feedback digest", 18, "B", 9)
    line(trainee.name, 12, "B")
    shared = local(digest.shared_ms or digest.updated_ms, trainee.time_zone)
    line(
        f"By {digest.author_name or 'an administrator'} · shared {shared} · version "
        f"{digest.version} · times in {trainee.time_zone}",
        9,
    )
    for name, heading in HEADINGS.items():
        pdf.ln(3)
        line(heading, 13, "B", 7)
        line(getattr(digest.text, name).strip() or "—")
    return bytes(pdf.output())
