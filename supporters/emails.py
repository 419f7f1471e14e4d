"""The e-mail with the link to a supporter's own page."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from core.context_processors import site
from core.emails import email_message, site_language
from core.supporter_links import supporter_page_url


def supporter_link_message(
    *, to: str, kind: str, record_id: int, language: str
) -> EmailMultiAlternatives:
    language = site_language(language)
    with translation.override(language):
        context = {
            **site(None),
            "language": language,
            "page_url": supporter_page_url(
                kind=kind, record_id=record_id, language=language
            ),
            "link_days": settings.SUPPORTER_LINK_MAX_AGE_DAYS,
        }
        subject = _("Your data with the campaign: your link")
        text = render_to_string("supporters/email/link.txt", context)
        html = render_to_string("supporters/email/link.html", context)
    return email_message(
        subject=subject,
        text=text,
        html=html,
        to=to,
        headers={"Auto-Submitted": "auto-generated"},
    )
