"""The supporters' background task: e-mailing the link to their own page,
so the request form never waits on (or reveals through timing) the mail
server."""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from core import supporter_links
from newsletters.models import Subscriber
from newsletters.tasks import EmailNotSent
from petitions.models import Signature

from .emails import supporter_link_message

logger = logging.getLogger(__name__)


@app.task(
    queue="emails",
    retry=RetryStrategy(
        max_attempts=7, wait=60, exponential_wait=2, retry_exceptions={EmailNotSent}
    ),
)
def send_supporter_link(*, kind: str, record_id: int, language: str) -> str:
    model = Signature if kind == supporter_links.SIGNATURE else Subscriber
    email = (
        model.objects.filter(pk=record_id)
        .exclude(email="")
        .values_list("email", flat=True)
        .first()
    )
    if not email:
        # Deleted or withdrawn since the request: nothing to show any more.
        return "skipped"
    try:
        supporter_link_message(
            to=email, kind=kind, record_id=record_id, language=language
        ).send()
    except Exception as error:
        logger.warning(
            "Could not send a supporter's page link (%s)", type(error).__name__
        )
        raise EmailNotSent(type(error).__name__) from None
    return "sent"
