"""Signed links in newsletter e-mails: confirm a subscription, unsubscribe.

The same scheme as petitions.tokens (the subscriber's id, signed with the
secret key and a salt per purpose), with salts of its own, so a petition link
can never be used as a newsletter link or the other way round.
"""

import datetime

from django.conf import settings
from django.core import signing

from petitions.tokens import ExpiredToken, InvalidToken

__all__ = ["ExpiredToken", "InvalidToken", "make_token", "read_token"]

_SALTS = {
    "confirm": "newsletters.subscriber.confirm",
    "unsubscribe": "newsletters.subscriber.unsubscribe",
}


def make_token(subscriber_id: int, purpose: str) -> str:
    return signing.dumps(subscriber_id, salt=_SALTS[purpose], compress=False)


def read_token(token: str, purpose: str) -> int:
    """The subscriber id in a token, or InvalidToken / ExpiredToken.

    Unsubscribe links never expire: an old e-mail must still stop the next.
    """
    max_age = None
    if purpose == "confirm":
        max_age = datetime.timedelta(days=settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS)
    try:
        value = signing.loads(token or "", salt=_SALTS[purpose], max_age=max_age)
    except signing.SignatureExpired as error:
        raise ExpiredToken from error
    except signing.BadSignature as error:
        raise InvalidToken from error
    if not isinstance(value, int):
        raise InvalidToken
    return value
