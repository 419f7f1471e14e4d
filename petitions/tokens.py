"""Signed links in e-mails: confirm, withdraw, unsubscribe.

Each link carries the signature's id, signed with the secret key and a salt
per purpose, so one kind of link can never be used as another.
"""

import datetime

from django.conf import settings
from django.core import signing

_SALTS = {
    "confirm": "petitions.signature.confirm",
    "withdraw": "petitions.signature.withdraw",
    "unsubscribe": "petitions.signature.unsubscribe",
    "thanks": "petitions.signature.thanks",
}


class InvalidToken(Exception):
    pass


class ExpiredToken(InvalidToken):
    pass


def make_token(signature_id: int, purpose: str, *, salts=_SALTS) -> str:
    """A signed link token; other apps pass salts of their own (newsletters)."""
    return signing.dumps(signature_id, salt=salts[purpose], compress=False)


def read_token(token: str, purpose: str, *, salts=_SALTS) -> int:
    """The id in a token, or InvalidToken / ExpiredToken. Only confirm and
    thanks links expire."""
    max_age = None
    if purpose == "confirm":
        max_age = datetime.timedelta(days=settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS)
    elif purpose == "thanks":
        max_age = datetime.timedelta(hours=12)
    try:
        value = signing.loads(token or "", salt=salts[purpose], max_age=max_age)
    except signing.SignatureExpired as error:
        raise ExpiredToken from error
    except signing.BadSignature as error:
        raise InvalidToken from error
    if not isinstance(value, int):
        raise InvalidToken
    return value
