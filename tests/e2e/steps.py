"""Steps that several browser tests take, as a supporter would take them.

Fields and buttons are found by their ids and types rather than their English
labels, and every address takes the language `prefix` ("" for English, which
has none), so the same steps can later drive the site in another language.
"""

import re

from django.core import mail
from django.utils import timezone

from petitions import services
from petitions.models import Petition
from petitions.outbox import signature_emails_send
from tests.petitions.factories import SignatureFactory

PETITION_SLUG = "justice-for-peru"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def petition_url(site, prefix=""):
    return f"{site}{prefix}/petitions/{PETITION_SLUG}/"


def fill_sign_form(
    page,
    *,
    full_name="Ana Quispe",
    email="ana@example.org",
    country="PE",
    consent=True,
):
    page.locator("#id_full_name").fill(full_name)
    page.locator("#id_email").fill(email)
    page.locator("#id_country").select_option(country)
    if consent:
        page.locator("#id_consent").check()


def submit_sign_form(page):
    page.locator(".sign-form [type=submit]").click()


def sign(page, site, *, prefix="", **fields):
    """Sign on the petition page; the browser ends on "Check your inbox"."""
    page.goto(petition_url(site, prefix))
    fill_sign_form(page, **fields)
    submit_sign_form(page)
    page.wait_for_url(f"**{prefix}/petitions/{PETITION_SLUG}/check-your-inbox/")


def confirmation_email(email="ana@example.org"):
    """Send the signature's confirmation e-mail now, as the outbox would."""
    signature_emails_send()
    return [message for message in mail.outbox if message.to == [email]][-1]


def link_in_email(message, purpose):
    """The confirm, withdraw or unsubscribe address in an e-mail's text."""
    found = re.search(rf"http://\S+/petitions/{purpose}/\?t=\S+", message.body)
    assert found, f"no {purpose} link in:\n{message.body}"
    return found.group(0)


def signature_count(page, site, prefix=""):
    """The count shown on the petition page."""
    page.goto(petition_url(site, prefix))
    return int(page.locator(".count-number").inner_text().replace(",", ""))


def add_confirmed_signatures(number, **fields):
    petition = Petition.objects.get(slug=PETITION_SLUG)
    signatures = SignatureFactory.create_batch(number, petition=petition, **fields)
    for signature in signatures:
        services.signature_confirm(signature_id=signature.pk, now=timezone.now())
    return signatures
