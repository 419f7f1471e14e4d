"""The PDF delivery pack: what it holds, what it never holds, who may take it."""

import datetime
import io
import logging
import tomllib

import pytest
from django.conf import settings
from django.core.management import call_command
from pypdf import PdfReader

from organising import delivery_pack, paper
from organising.delivery_pack import export_delivery_pack
from organising.models import PaperBatch, SignatureExport
from petitions.forms import SignatureForm
from petitions.models import Signature
from tests.petitions.factories import (
    ConfirmedSignatureFactory,
    PetitionFactory,
    staff_user,
)

from .factories import organiser, recount

pytestmark = pytest.mark.django_db

PACK = "/admin/petitions/petition/dashboard/justice/delivery-pdf.pdf"


def _text(pdf: bytes) -> str:
    """Every page's text, as a PDF reader extracts it.

    pypdf maps the embedded font's glyph codes back to characters through the
    ToUnicode table ReportLab writes: the same route a viewer's copy and paste
    and search take, so a name found here is a name a reader can find.
    """
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def petition():
    petition = PetitionFactory(
        slug="justice", title="Justice for the victims", addressed_to="Congress"
    )
    ConfirmedSignatureFactory(
        petition=petition, full_name="Rosa Mamani", country="PE", postcode="PUNO 1"
    )
    ConfirmedSignatureFactory(petition=petition, full_name="Luis Huaman", country="GB")
    ConfirmedSignatureFactory(
        petition=petition,
        full_name="Pending Person",
        status=Signature.Status.PENDING,
    )
    recount(petition)
    paper.paper_batch_save(
        batch=PaperBatch(
            petition=petition,
            country="PE",
            count=5,
            collected_on=datetime.date(2026, 11, 2),
            collected_by="Juliaca stall",
            names="Ana Condori\nJuan Apaza",
        )
    )
    return petition


def _pack(petition, **kwargs):
    record, chunks = export_delivery_pack(petition=petition, **kwargs)
    return record, b"".join(chunks)


def test_the_pack_has_the_text_totals_countries_and_confirmed_names(petition):
    _record, pdf = _pack(petition)
    text = _text(pdf)
    assert "Justice for the victims" in text and "To: Congress" in text
    assert "7 signatures in all: 2 confirmed online and 5 collected on paper" in text
    assert "Peru: 6" in text and "United Kingdom: 1" in text
    assert "Rosa Mamani" in text and "Luis Huaman" in text
    assert "Collected on paper by Juliaca stall on 2026-11-02" in text
    assert "Ana Condori" in text and "Juan Apaza" in text


def test_the_pack_never_holds_emails_postcodes_or_unconfirmed_signers(petition):
    _record, pdf = _pack(petition)
    text = _text(pdf)
    assert "@" not in text
    assert "PUNO 1" not in text
    assert "Pending Person" not in text


def test_the_pack_is_recorded_in_the_export_log(petition):
    user = organiser()
    record, _pdf = _pack(petition, user=user)
    record.refresh_from_db()
    assert (record.kind, record.user, record.row_count, record.finished) == (
        "delivery-pdf",
        user,
        4,
        True,
    )


def test_a_pack_abandoned_part_way_stays_recorded_as_unfinished(petition):
    record, chunks = export_delivery_pack(petition=petition)
    next(chunks)
    chunks.close()
    record.refresh_from_db()
    assert record.finished is False


def test_thousands_of_names_fill_many_pages(petition):
    ConfirmedSignatureFactory.create_batch(400, petition=petition)
    record, pdf = _pack(petition)
    assert pdf.count(b"/Type /Page\n") > 2
    record.refresh_from_db()
    assert record.row_count == 404


def test_organisers_download_the_pack_from_the_dashboard(client, petition):
    client.force_login(organiser())
    page = client.get("/admin/petitions/petition/dashboard/justice/").content.decode()
    assert f'action="{PACK}"' in page
    response = client.post(PACK)
    assert response.streaming
    assert response["Content-Type"] == "application/pdf"
    assert "justice-delivery-pdf-" in response["Content-Disposition"]
    assert "Rosa Mamani" in _text(b"".join(response.streaming_content))
    assert SignatureExport.objects.get().kind == "delivery-pdf"


@pytest.mark.parametrize(
    "permissions", [[], ["organising.export_counts"], ["organising.view_dashboard"]]
)
def test_the_pack_needs_the_delivery_list_permission(client, petition, permissions):
    client.force_login(staff_user("staff@example.org", permissions=permissions))
    assert client.post(PACK).status_code == 403
    assert not SignatureExport.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client, petition):
    response = client.post(PACK)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_command_writes_the_pack_to_a_file(petition, tmp_path):
    target = tmp_path / "pack.pdf"
    call_command(
        "export_signatures",
        "justice",
        "--kind",
        "delivery-pdf",
        "--output",
        str(target),
    )
    assert "Rosa Mamani" in _text(target.read_bytes())


def test_the_sign_form_says_names_are_delivered():
    label = str(SignatureForm().fields["consent"].label)
    assert "delivers my name and country" in label


def test_the_privacy_notice_says_names_are_delivered_in_both_languages():
    notice = tomllib.loads(
        (settings.BASE_DIR / "content/pages/privacy.toml").read_text("utf-8")
    )
    assert "Your full name and your country are delivered to them" in notice["body"]
    assert "Tu nombre completo y tu país se les entregan" in notice["body_es"]


UNICODE_NAMES = [
    "Ñusta Quispe Mamani",  # Quechua name, Spanish letters
    "Σοφία Παπαδοπούλου",  # Greek
    "Алексей Смирнов",  # Cyrillic
    "Şükrü Öztürk-Łukasz",  # Turkish and Polish letters outside cp1252
]


def test_names_in_any_script_are_printed_with_an_embedded_unicode_font(petition):
    for name in UNICODE_NAMES:
        ConfirmedSignatureFactory(petition=petition, full_name=name, country="PE")
    paper.paper_batch_save(
        batch=PaperBatch(
            petition=petition,
            country="GR",
            count=1,
            collected_on=datetime.date(2026, 11, 3),
            collected_by="Αθήνα",
            names="Γιώργος Νικολάου",
        )
    )
    record, pdf = _pack(petition)
    text = _text(pdf)
    for name in [*UNICODE_NAMES, "Γιώργος Νικολάου", "Collected on paper by Αθήνα"]:
        assert name in text
    fonts = {
        str(font["/BaseFont"])
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    # Subsets of DejaVu Sans (a tag such as AAAAAA+ before the name), and
    # nothing left in Helvetica, which would show boxes for these names.
    assert fonts and all(
        font.endswith("+DejaVuSans") or font.endswith("+DejaVuSans-Bold")
        for font in fonts
    )
    record.refresh_from_db()
    assert record.row_count == 2 + len(UNICODE_NAMES) + 3


def test_without_the_font_file_the_pack_is_made_in_helvetica_with_a_warning(
    petition, monkeypatch, caplog
):
    monkeypatch.setitem(
        delivery_pack.FONT_FILES, "DejaVuSans", "/nonexistent/DejaVuSans.ttf"
    )
    delivery_pack.pack_fonts.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="organising.delivery_pack"):
            _record, pdf = _pack(petition)
    finally:
        monkeypatch.undo()
        delivery_pack.pack_fonts.cache_clear()
    assert "fonts-dejavu-core" in caplog.text
    assert "Rosa Mamani" in _text(pdf)
    assert b"/BaseFont /Helvetica" in pdf


def test_a_name_withheld_is_counted_but_left_out_of_the_pack_which_says_how_many(
    petition,
):
    ConfirmedSignatureFactory(
        petition=petition, full_name="Carmen Withheld", country="PE", name_withheld=True
    )
    recount(petition)
    text = _text(_pack(petition)[1])
    assert "Carmen Withheld" not in text
    assert "Rosa Mamani" in text
    assert "8 signatures in all: 3 confirmed online" in text
    assert "1 signer asked to be counted without their name being handed" in text
