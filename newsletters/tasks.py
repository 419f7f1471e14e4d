"""The newsletter's background tasks (Procrastinate; see newsletters/delivery.py)."""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from core.db import connection_drop_if_broken

from . import delivery, services
from .emails import subscription_confirm_message
from .models import Delivery, Issue, Subscriber

logger = logging.getLogger(__name__)


class EmailNotSent(Exception):
    """The mail server failed; carries the error class, never an address."""


@app.task(
    queue="emails",
    retry=RetryStrategy(
        max_attempts=7, wait=60, exponential_wait=2, retry_exceptions={EmailNotSent}
    ),
)
def send_subscription_confirmation(*, subscriber_id: int) -> str:
    """The double opt-in e-mail of the subscribe form."""

    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status != Subscriber.Status.PENDING:
        return "skipped"
    try:
        subscription_confirm_message(subscriber).send()
    except Exception as error:
        logger.warning(
            "Could not send the confirmation to subscriber %s (%s)",
            subscriber_id,
            type(error).__name__,
        )
        raise EmailNotSent(type(error).__name__) from None
    return "sent"


@app.task(queue="newsletter", retry=RetryStrategy(max_attempts=10, wait=30))
def send_issue_batches(*, issue_id: int) -> dict:
    """Send an issue's due deliveries in batches (newsletters.delivery.send_issue).

    Retried if it crashes (a database restart, say): the rows it held come
    back by the lease rule, so a retry never sends anyone a second message
    (at most the interrupted one again, with the same Message-ID).
    """
    connection_drop_if_broken()
    try:
        result = delivery.send_issue(issue_id=issue_id)
    finally:
        connection_drop_if_broken()
    return {"sent": result.sent, "failed": result.failed, "in_doubt": result.in_doubt}


@app.periodic(cron="* * * * *")
@app.task(queue="newsletter", queueing_lock="newsletter-tick")
def newsletter_tick(timestamp: int) -> dict:
    """Every minute: apply the lease rule to claims of dead workers, queue
    scheduled issues that are due, and restart the batches of any send that
    has due deliveries but no task (after a worker was killed, say)."""
    in_doubt, requeued = delivery.reconcile_expired()
    queued = services.issues_send_due()
    restarted = 0
    sending = Issue.objects.filter(status=Issue.Status.SENDING)
    with_queued = set(
        Delivery.objects.filter(issue__in=sending, state="queued")
        .values_list("issue_id", flat=True)
        .distinct()
    )
    for issue_id in sending.values_list("pk", flat=True):
        if issue_id in with_queued:
            restarted += services.issue_batches_start(issue_id=issue_id)
        else:
            delivery.finish_if_done(issue_id)
    return {
        "in_doubt": in_doubt,
        "requeued": requeued,
        "queued": queued,
        "restarted": restarted,
    }
