"""Signed links to a supporter's own page (supporters.views.supporter_page):
what the campaign holds about an address, and the means to correct or
delete it.

Every e-mail the site sends carries one in its footer, and the request form
sends one. The link names one record of the address (a signature or a
subscriber, by id, with a salt per kind), never the address itself, so the
address is in no URL and no web server log. It lives here because petitions
and newsletters write it into their e-mails and the supporters app, above
both, reads it.
"""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from . import signed_links
from .emails import site_language

SIGNATURE = "signature"
SUBSCRIBER = "subscriber"
_SALTS = {
    SIGNATURE: "supporters.page.signature",
    SUBSCRIBER: "supporters.page.subscriber",
}


def make_token(*, kind: str, record_id: int) -> str:
    return signed_links.make_token(record_id, salt=_SALTS[kind])


def read_token(token: str) -> tuple[str, int]:
    """(kind, record id) of a page link, or signed_links.InvalidToken /
    ExpiredToken. A token made for one kind never reads as the other: each
    kind has its own salt."""
    max_age = datetime.timedelta(days=settings.SUPPORTER_LINK_MAX_AGE_DAYS)
    for kind, salt in _SALTS.items():
        try:
            return kind, signed_links.read_token(token, salt=salt, max_age=max_age)
        except signed_links.ExpiredToken:
            # The signature matched this kind's salt: only its age is wrong.
            raise
        except signed_links.InvalidToken:
            continue
    raise signed_links.InvalidToken


def supporter_page_url(*, kind: str, record_id: int, language: str) -> str:
    """The full address of the supporter's page, in their language."""
    with translation.override(site_language(language)):
        path = reverse("supporters:page")
    return f"{settings.SITE_URL}{path}?t={make_token(kind=kind, record_id=record_id)}"
