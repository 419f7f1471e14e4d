"""Signed links in newsletter e-mails: confirm a subscription, unsubscribe.

The scheme of core.signed_links (the subscriber's id, signed with the secret
key and a salt per purpose), with salts of its own, so a petition link can
never be used as a newsletter link or the other way round.
"""

import datetime

from django.conf import settings

from core import signed_links

_SALTS = {
    "confirm": "newsletters.subscriber.confirm",
    "unsubscribe": "newsletters.subscriber.unsubscribe",
}


def make_token(subscriber_id: int, purpose: str) -> str:
    return signed_links.make_token(subscriber_id, salt=_SALTS[purpose])


def read_token(token: str, purpose: str) -> int:
    """The subscriber id in a token, or core.signed_links.InvalidToken / ExpiredToken.

    Unsubscribe links never expire: an old e-mail must still stop the next.
    """
    max_age = None
    if purpose == "confirm":
        max_age = datetime.timedelta(days=settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS)
    return signed_links.read_token(token, salt=_SALTS[purpose], max_age=max_age)
