"""Signed links in newsletter e-mails: confirm a subscription, unsubscribe.

The same scheme as petitions.tokens (the subscriber's id, signed with the
secret key and a salt per purpose), with salts of its own, so a petition link
can never be used as a newsletter link or the other way round.
"""

from petitions import tokens as petition_tokens
from petitions.tokens import ExpiredToken, InvalidToken

__all__ = ["ExpiredToken", "InvalidToken", "make_token", "read_token"]

_SALTS = {
    "confirm": "newsletters.subscriber.confirm",
    "unsubscribe": "newsletters.subscriber.unsubscribe",
}


def make_token(subscriber_id: int, purpose: str) -> str:
    return petition_tokens.make_token(subscriber_id, purpose, salts=_SALTS)


def read_token(token: str, purpose: str) -> int:
    """The subscriber id in a token, or InvalidToken / ExpiredToken.

    Unsubscribe links never expire: an old e-mail must still stop the next.
    """
    return petition_tokens.read_token(token, purpose, salts=_SALTS)
