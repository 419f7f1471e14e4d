"""Bounces and complaints from the e-mail provider, through django-anymail.

Anymail turns each provider's webhook into the same normalised tracking
event (and checks the webhook's basic-auth secret, ANYMAIL_WEBHOOK_SECRET);
here those events mark addresses so that no further issue goes to them.
Nothing is logged but the event type.
"""

import logging

from anymail.signals import EventType, RejectReason

from . import services
from .models import Subscriber

logger = logging.getLogger(__name__)

# Delivery failures that mean the address itself does not work.
_HARD_REJECTIONS = {RejectReason.BOUNCED, RejectReason.INVALID}


def handle_tracking_event(sender, event, esp_name, **kwargs) -> None:
    recipient = event.recipient
    if not recipient:
        return
    changed = False
    if event.event_type == EventType.BOUNCED or (
        event.event_type == EventType.REJECTED
        and event.reject_reason in _HARD_REJECTIONS
    ):
        changed = services.subscriber_mark_undeliverable(
            email=recipient, reason=Subscriber.Status.BOUNCED
        )
    elif event.event_type == EventType.COMPLAINED:
        changed = services.subscriber_mark_undeliverable(
            email=recipient, reason=Subscriber.Status.COMPLAINED
        )
    elif event.event_type == EventType.UNSUBSCRIBED:
        changed = services.subscriber_unsubscribe_email(email=recipient)
    if changed:
        logger.info("%s webhook: %s event applied", esp_name, event.event_type)
