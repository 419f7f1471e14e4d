"""The delivery pack: a printable PDF for handing a petition to its targets.

The petition text, the total with the part collected on paper, the counts by
country, then the confirmed signers' names and countries (never an e-mail
address or a postcode), then the names written on paper batches.

Built with ReportLab (pure Python wheels, no system libraries; WeasyPrint would
need Pango and friends on every host, and renders a whole HTML document in
memory). A million names make some 7,000 pages, and ReportLab keeps every page
of a document until it writes the file, so two things keep memory flat:

- the names come from a server-side cursor (`QuerySet.iterator()`), a page's
  worth at a time, never a list of them all;
- each page's drawing instructions are compressed the moment the page is
  finished (`_CompressingCanvas`), so what stays in memory per page is a few
  hundred bytes of compressed text instead of the text itself.

The file is written to a temporary file on disk and then sent in 64 kB blocks,
so the response holds only one block at a time. `make bench`
(scripts/bench_export.py, the `--kind delivery-pdf` run) measures time and
peak memory for a million names. The export is recorded in the export log
(SignatureExport) like the CSVs: at once, then with its row count (names
printed) when it ends.
"""

import functools
import logging
import os
import tempfile
import zlib
from collections.abc import Iterator

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from petitions import selectors
from petitions.models import Petition, Signature

from .models import PaperBatch, SignatureExport

CHUNK_BYTES = 64 * 1024
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
logger = logging.getLogger(__name__)

# Signers write their names in any script: Ñusta, Σοφία, Алексей. The PDF
# base fonts (Helvetica) only know cp1252, so a Unicode TrueType font is
# embedded (only the glyphs used: ReportLab subsets it). DejaVu comes from
# the Debian package fonts-dejavu-core (scripts/system-packages.sh).
FONT_FILES = {
    "DejaVuSans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSans-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
}
FALLBACK_FONT = "Helvetica"
FALLBACK_BOLD = "Helvetica-Bold"
TEXT_SIZE = 10
NAME_SIZE = 8
NAME_LEADING = 10.5
# Two columns of names a page, each a name and its country.
COLUMNS = 2
COLUMN_GAP = 8 * mm
COLUMN_WIDTH = (PAGE_WIDTH - 2 * MARGIN - COLUMN_GAP) / COLUMNS
COUNTRY_WIDTH = 24 * mm
NAME_WIDTH = COLUMN_WIDTH - COUNTRY_WIDTH - 2 * mm
# Names are read from the database this many at a time.
FETCH_SIZE = 2000


@functools.cache
def pack_fonts() -> tuple[str, str]:
    """The (regular, bold) font names to draw with, registered once per process.

    Without the TrueType files the pack is still made, in Helvetica, where
    names outside cp1252 come out as black boxes: a warning says so.
    """
    missing = [path for path in FONT_FILES.values() if not os.path.exists(path)]
    if missing:
        logger.warning(
            "Delivery pack: %s not found (Debian package fonts-dejavu-core); "
            "using Helvetica, which cannot print names outside Western scripts",
            ", ".join(missing),
        )
        return FALLBACK_FONT, FALLBACK_BOLD
    for name, path in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, path))
    regular, bold = FONT_FILES
    return regular, bold


class _CompressingCanvas(canvas.Canvas):
    """A canvas that compresses each page's content as soon as it is finished.

    ReportLab keeps every page object until save(); by default each keeps its
    content as uncompressed text and compresses it only then. Compressing it
    here, with the Filter already named so ReportLab does not compress it
    again, keeps a 7,000-page document in a few tens of megabytes.
    """

    def showPage(self):
        super().showPage()
        page = self._doc.Pages.pages[-1]
        content = page.stream
        if isinstance(content, str):
            content = content.encode("latin-1")
        page.Contents = PDFStream(
            PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])}),
            zlib.compress(content),
        )
        page.stream = None


def _fit(text: str, width: float, size: float, font: str) -> str:
    """The text, cut with an ellipsis to fit the width."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


class _Writer:
    """Lays text out on pages: paragraphs, headings, and columns of names."""

    def __init__(self, file, *, title: str, footer: str):
        self.font, self.bold = pack_fonts()
        self.canvas = _CompressingCanvas(
            file,
            pagesize=A4,
            pageCompression=0,
            invariant=1,
            # Else every page also carries Helvetica, set before any text.
            initialFontName=self.font,
        )
        self.canvas.setTitle(title)
        self.footer = footer
        self.page_number = 1
        self.y = PAGE_HEIGHT - MARGIN

    def new_page(self):
        self._draw_footer()
        self.canvas.showPage()
        self.page_number += 1
        self.y = PAGE_HEIGHT - MARGIN

    def _draw_footer(self):
        self.canvas.setFont(self.font, 7)
        self.canvas.drawString(MARGIN, MARGIN / 2, self.footer)
        self.canvas.drawRightString(
            PAGE_WIDTH - MARGIN, MARGIN / 2, str(self.page_number)
        )

    def paragraph(self, text: str, *, bold=False, size=TEXT_SIZE, after=4):
        font = self.bold if bold else self.font
        leading = size * 1.35
        for line in simpleSplit(text, font, size, PAGE_WIDTH - 2 * MARGIN) or [""]:
            if self.y - leading < MARGIN:
                self.new_page()
            self.canvas.setFont(font, size)
            self.canvas.drawString(MARGIN, self.y - size, line)
            self.y -= leading
        self.y -= after

    def heading(self, text: str, size=13):
        if self.y - 4 * size < MARGIN:
            self.new_page()
        self.y -= size / 2
        self.paragraph(text, bold=True, size=size, after=size / 2)

    def names(self, rows: Iterator[tuple[str, str]]) -> int:
        """Names and countries in columns, page after page; returns how many."""
        written = 0
        column = 0
        lines_per_column = int((self.y - MARGIN) // NAME_LEADING)
        page_top = self.y
        names = countries_ = None
        for name, country in rows:
            if names is None:
                x = MARGIN + column * (COLUMN_WIDTH + COLUMN_GAP)
                names = self.canvas.beginText(x, page_top - NAME_SIZE)
                countries_ = self.canvas.beginText(
                    x + NAME_WIDTH + 2 * mm, page_top - NAME_SIZE
                )
                for text in (names, countries_):
                    text.setFont(self.font, NAME_SIZE)
                    text.setLeading(NAME_LEADING)
                in_column = 0
            names.textLine(_fit(name, NAME_WIDTH, NAME_SIZE, self.font))
            countries_.textLine(_fit(country, COUNTRY_WIDTH, NAME_SIZE, self.font))
            written += 1
            in_column += 1
            if in_column == lines_per_column:
                self.canvas.drawText(names)
                self.canvas.drawText(countries_)
                names = None
                column += 1
                if column == COLUMNS:
                    self.new_page()
                    column = 0
                    page_top = self.y
                    lines_per_column = int((self.y - MARGIN) // NAME_LEADING)
        if names is not None:
            self.canvas.drawText(names)
            self.canvas.drawText(countries_)
            self.y = page_top - in_column * NAME_LEADING if column == 0 else MARGIN
        if column:
            self.y = MARGIN
        self.y -= NAME_LEADING
        return written

    def save(self):
        self._draw_footer()
        self.canvas.showPage()
        self.canvas.save()


def _country_name(code: str) -> str:
    return str(countries.name(code)) if code else _("Country not given")


def _confirmed_names(petition: Petition) -> Iterator[tuple[str, str]]:
    # A server-side cursor on PostgreSQL: FETCH_SIZE rows in memory at a time.
    rows = (
        Signature.objects.confirmed()
        .filter(petition=petition)
        .exclude(full_name="")
        # Counted in the totals; the pack says how many, never who.
        .exclude(name_withheld=True)
        .order_by("confirmed_at", "pk")
        .values_list("full_name", "country")
        .iterator(chunk_size=FETCH_SIZE)
    )
    for name, country in rows:
        yield name, _country_name(country)


def _write_pack(file, *, petition: Petition) -> int:
    """Write the whole pack to `file`; returns the number of names printed."""
    total, paper = selectors.petition_signature_and_paper_counts(petition)
    by_country, _updated_at = selectors.petition_counts_by_country(petition)
    today = timezone.localdate()
    writer = _Writer(
        file,
        title=petition.title,
        footer=_("%(title)s · delivery pack of %(date)s")
        % {"title": petition.title, "date": today.isoformat()},
    )
    writer.paragraph(petition.title, bold=True, size=18, after=8)
    writer.paragraph(_("To: %(targets)s") % {"targets": petition.addressed_to})
    writer.paragraph(petition.summary, after=8)
    for block in strip_tags(petition.body_html).split("\n\n"):
        if block.strip():
            writer.paragraph(" ".join(block.split()), after=6)
    writer.heading(_("Signatures"))
    writer.paragraph(
        _(
            "%(total)s signatures in all: %(online)s confirmed online and "
            "%(paper)s collected on paper, as of %(date)s."
        )
        % {
            "total": intcomma(total),
            "online": intcomma(total - paper),
            "paper": intcomma(paper),
            "date": today.isoformat(),
        }
    )
    withheld = selectors.petition_names_withheld_count(petition)
    if withheld:
        writer.paragraph(
            ngettext(
                "%(count)s signer asked to be counted without their name being "
                "handed over, so their name is not listed below.",
                "%(count)s signers asked to be counted without their names being "
                "handed over, so their names are not listed below.",
                withheld,
            )
            % {"count": intcomma(withheld)}
        )
    writer.heading(_("Signatures by country"), size=11)
    for code, count in by_country.items():
        writer.paragraph(f"{_country_name(code)}: {intcomma(count)}", after=0)
    writer.new_page()
    writer.heading(_("Signed online"))
    written = writer.names(_confirmed_names(petition))
    batches = PaperBatch.objects.filter(petition=petition).exclude(names="")
    for batch in batches.order_by("collected_on", "pk").iterator():
        writer.heading(
            _("Collected on paper by %(who)s on %(date)s")
            % {"who": batch.collected_by, "date": batch.collected_on.isoformat()},
            size=11,
        )
        country = _country_name(str(batch.country or ""))
        written += writer.names((name, country) for name in batch.name_list())
    writer.save()
    return written


def export_delivery_pack(
    *,
    petition: Petition,
    user=None,
    requested_by: str = "",
    language: str | None = None,
) -> tuple[SignatureExport, Iterator[bytes]]:
    """Record the export now; return the record and the PDF's bytes, streamed.

    As with the CSVs, the caller checks permissions; the record is written at
    once, and its row count (names printed) and `finished` when the file ends.
    """
    if user is not None and not requested_by:
        requested_by = user.get_username()
    record = SignatureExport.objects.create(
        petition=petition,
        kind=SignatureExport.Kind.DELIVERY_PDF,
        user=user,
        requested_by=requested_by,
    )
    language = language or settings.LANGUAGE_CODE
    return record, _stream(record=record, petition=petition, language=language)


def _stream(*, record, petition, language) -> Iterator[bytes]:
    written = 0
    finished = False
    try:
        with tempfile.TemporaryFile() as file:
            with translation.override(language):
                written = _write_pack(file, petition=petition)
            file.seek(0)
            while chunk := file.read(CHUNK_BYTES):
                yield chunk
        finished = True
    finally:
        SignatureExport.objects.filter(pk=record.pk).update(
            row_count=written, finished=finished, finished_at=timezone.now()
        )
