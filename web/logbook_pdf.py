"""The logbook as a PDF (fpdf2), for a recognition body: totals by role, then every entry."""

from __future__ import annotations

from fpdf import FPDF

from web.logbook_export import DECLARATION, UNICODE_FONTS, Logbook, feedback_text, hours, local


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


def logbook_pdf(book: Logbook, compress: bool = True) -> bytes:
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
