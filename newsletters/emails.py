"""The newsletter's e-mails: an issue in a subscriber's language, and the
confirmation of a subscription made with the form.

An issue is rendered once per language and sending only fills in each
subscriber's own unsubscribe link, so a batch costs SMTP time, not template
time. Privacy first: no tracking pixel, no image at all, and links go straight
to their addresses (nothing is rewritten through a counting redirect).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from core.context_processors import site
from core.emails import email_message, site_host, site_language, stable_message_id
from core.markdown import render_markdown
from core.supporter_links import SUBSCRIBER, supporter_page_url

from .tokens import make_token

UNSUBSCRIBE_PLACEHOLDER = "UNSUBSCRIBE-URL-PLACEHOLDER"
MY_DATA_PLACEHOLDER = "MY-DATA-URL-PLACEHOLDER"


def entry_language(entry, language: str) -> str:
    """The language an entry is sent in: the subscriber's, if the entry was
    written in it, else English. Whole entries, never a mix of the two."""
    language = site_language(language)
    if language == settings.LANGUAGE_CODE:
        return language
    return (
        language if getattr(entry, f"body_{language}", "") else settings.LANGUAGE_CODE
    )


@dataclass(frozen=True)
class RenderedIssue:
    issue_id: int
    language: str
    subject: str
    text: str
    html: str


def issue_render(issue, language: str) -> RenderedIssue:
    """The issue's subject, text and HTML in `language`, with a placeholder
    where each subscriber's unsubscribe link goes."""
    language = site_language(language)
    items = []
    for entry in issue.entries.order_by("pub_date", "pk").prefetch_related("sources"):
        with translation.override(entry_language(entry, language)):
            items.append(
                {
                    "language": translation.get_language(),
                    "title": entry.title,
                    "summary": entry.summary,
                    "body_text": entry.body,
                    "body_html": render_markdown(entry.body),
                    "url": f"{settings.SITE_URL}{entry.get_absolute_url()}",
                    "sources": [
                        (source.title, source.url) for source in entry.sources.all()
                    ],
                }
            )
    with translation.override(language):
        subject = issue.subject or (items[0]["title"] if items else "")
        context = {
            # Who runs the campaign, named in every e-mail (as the signers'
            # e-mails do, petitions.emails).
            **site(None),
            "language": language,
            "subject": subject,
            "entries": items,
            "news_url": f"{settings.SITE_URL}{reverse('newsletters:index')}",
            "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
            "my_data_url": MY_DATA_PLACEHOLDER,
        }
        text = render_to_string("newsletters/email/issue.txt", context)
        html = render_to_string("newsletters/email/issue.html", context)
    return RenderedIssue(
        issue_id=issue.pk, language=language, subject=subject, text=text, html=html
    )


def unsubscribe_url(subscriber_id: int, language: str) -> str:
    with translation.override(site_language(language)):
        path = reverse("newsletters:unsubscribe")
    return f"{settings.SITE_URL}{path}?t={make_token(subscriber_id, 'unsubscribe')}"


def _list_id() -> str:
    return f"Campaign updates <updates.{site_host()}>"


def issue_message_id(*, issue_id: int, subscriber_id: int) -> str:
    """The one Message-ID of an issue's delivery to one subscriber.

    Every attempt at the same delivery carries it, so a retransmission after
    an interruption is, by RFC 5322, the same message, and Gmail and many
    mail programs that already have it file the repeat as one.
    """
    return stable_message_id(
        salt="newsletters.issue_message_id",
        prefix="issue",
        parts=(issue_id, subscriber_id),
    )


def issue_message(
    rendered: RenderedIssue, *, to: str, subscriber_id: int, connection=None
) -> EmailMultiAlternatives:
    """The issue for one subscriber, with RFC 8058 one-click unsubscribe headers
    and the delivery's stable Message-ID (the issue's id is in `rendered`)."""
    link = unsubscribe_url(subscriber_id, rendered.language)
    my_data = supporter_page_url(
        kind=SUBSCRIBER, record_id=subscriber_id, language=rendered.language
    )
    return email_message(
        subject=rendered.subject,
        text=rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, link).replace(
            MY_DATA_PLACEHOLDER, my_data
        ),
        html=rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, link).replace(
            MY_DATA_PLACEHOLDER, my_data
        ),
        to=to,
        connection=connection,
        headers={
            "Message-ID": issue_message_id(
                issue_id=rendered.issue_id, subscriber_id=subscriber_id
            ),
            # Mail programs show an "Unsubscribe" button that POSTs
            # "List-Unsubscribe=One-Click" to this address (RFC 8058).
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": _list_id(),
            "Precedence": "bulk",
        },
    )


def subscription_confirm_message(subscriber) -> EmailMultiAlternatives:
    language = site_language(subscriber.language)
    with translation.override(language):
        path = reverse("newsletters:subscribe_confirm")
        context = {
            **site(None),
            "language": language,
            "confirm_url": (
                f"{settings.SITE_URL}{path}?t={make_token(subscriber.pk, 'confirm')}"
            ),
            "confirm_days": settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS,
            "my_data_url": supporter_page_url(
                kind=SUBSCRIBER, record_id=subscriber.pk, language=language
            ),
        }
        subject = _("Please confirm: campaign updates by e-mail")
        text = render_to_string("newsletters/email/confirm_subscription.txt", context)
        html = render_to_string("newsletters/email/confirm_subscription.html", context)
    return email_message(
        subject=subject,
        text=text,
        html=html,
        to=subscriber.email,
        headers={"Auto-Submitted": "auto-generated"},
    )
