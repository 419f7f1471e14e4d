"""A batch's e-mails (petitions.emails.build_signature_email with a shared
`rendered`) are the ones the templates give each signer."""

import pytest
from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.utils import translation

from core.context_processors import site
from petitions.emails import build_signature_email, my_data_link, signature_link
from tests.petitions.factories import PetitionFactory, SignatureFactory

pytestmark = pytest.mark.django_db


def _from_the_templates(signature, kind: str) -> tuple[str, str]:
    """The text and HTML as the templates render them for this signer alone."""
    petition = signature.petition
    with translation.override(signature.consent_language):
        links = {
            f"{purpose}_url": signature_link(signature, purpose)
            for purpose in ("confirm", "withdraw", "unsubscribe")
        }
        if not signature.wants_updates:
            links["unsubscribe_url"] = ""
        context = site(None) | links
        context.update(
            signature=signature,
            petition=petition,
            first_name=signature.public_first_name,
            petition_url=settings.SITE_URL + petition.get_absolute_url(),
            confirm_days=settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS,
            my_data_url=my_data_link(signature),
        )
        return tuple(
            render_to_string(f"petitions/email/{kind}.{part}", context)
            for part in ("txt", "html")
        )


@pytest.mark.parametrize("kind", ["confirm", "already_signed"])
def test_each_signer_of_a_batch_gets_the_email_the_templates_give_them(
    kind, monkeypatch
):
    # A signed link carries the second it was signed in, so the two
    # renderings compared here differ when a second boundary falls between
    # them. The signer's clock (TimestampSigner.timestamp, which dumps() asks)
    # stands still for the whole test.
    frozen = signing.TimestampSigner().timestamp()
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: frozen)
    petition = PetitionFactory(title='Justicia & "verdad" <ya>')
    signers = [
        SignatureFactory(petition=petition, full_name="Ana <b>O'Neil</b> & co"),
        SignatureFactory(petition=petition, full_name="Ana Quispe"),
        SignatureFactory(
            petition=petition, full_name="Luis Mamani", wants_updates=True
        ),
        SignatureFactory(petition=petition, full_name="", consent_language="es"),
        SignatureFactory(petition=petition, full_name="José", consent_language="es"),
    ]
    rendered = {}
    for signature in signers:
        message = build_signature_email(signature, kind, rendered=rendered)
        text, html = _from_the_templates(signature, kind)
        assert message.body == text
        assert message.alternatives[0][0] == html
    # One rendering per petition, kind, language, named or not, and updates.
    assert len(rendered) == 4
