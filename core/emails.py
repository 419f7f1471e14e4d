"""What every e-mail the campaign sends has in common: the site's languages,
its host name, and a multipart message (text and HTML) from the campaign."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives


def site_language(language: str) -> str:
    """One of the site's languages; anything else gets the default."""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def site_host() -> str:
    """The host in SITE_URL, for Message-IDs and List-Ids."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def email_message(
    *, subject: str, text: str, html: str, to: str, headers: dict, connection=None
) -> EmailMultiAlternatives:
    """A message from DEFAULT_FROM_EMAIL to one address, text with an HTML
    alternative."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
