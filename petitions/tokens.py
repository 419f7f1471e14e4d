"""Signed links in signers' e-mails: confirm, withdraw, unsubscribe, thanks.

Each link carries the signature's id (core.signed_links), with a salt per
purpose. Only confirm and thanks links expire.
"""

import datetime

from django.conf import settings

from core import signed_links

_SALTS = {
    "confirm": "petitions.signature.confirm",
    "withdraw": "petitions.signature.withdraw",
    "unsubscribe": "petitions.signature.unsubscribe",
    "thanks": "petitions.signature.thanks",
}


def make_token(signature_id: int, purpose: str) -> str:
    return signed_links.make_token(signature_id, salt=_SALTS[purpose])


def read_token(token: str, purpose: str) -> int:
    """The signature id in a token, or core.signed_links.InvalidToken / ExpiredToken."""
    max_age = None
    if purpose == "confirm":
        max_age = datetime.timedelta(days=settings.SIGNATURE_CONFIRM_MAX_AGE_DAYS)
    elif purpose == "thanks":
        max_age = datetime.timedelta(hours=12)
    return signed_links.read_token(token, salt=_SALTS[purpose], max_age=max_age)
