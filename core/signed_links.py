"""Signed links in e-mails (confirm, withdraw, unsubscribe...) and the page
shown when one does not work.

A link carries one id, signed with the secret key and a salt per app and
purpose, so one kind of link can never be used as another. Each app names
its salts and which links expire (petitions.tokens, newsletters.tokens).
"""

import datetime
from collections.abc import Callable

from django.core import signing
from django.shortcuts import render
from django.utils.translation import gettext as _


class InvalidToken(Exception):
    pass


class ExpiredToken(InvalidToken):
    pass


def make_token(value: int, *, salt: str) -> str:
    return signing.dumps(value, salt=salt, compress=False)


def read_token(
    token: str, *, salt: str, max_age: datetime.timedelta | None = None
) -> int:
    """The id in a token, or InvalidToken / ExpiredToken (only with max_age)."""
    try:
        value = signing.loads(token or "", salt=salt, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ExpiredToken from error
    except signing.BadSignature as error:
        raise InvalidToken from error
    if not isinstance(value, int):
        raise InvalidToken
    return value


def id_from_token(
    request,
    purpose: str,
    *,
    read_token: Callable[[str, str], int],
    expired: str,
    token: str | None = None,
) -> tuple[int | None, str | None, str | None]:
    """The id in a link's token (from `t`, or `token` when given), the token,
    and the problem to show instead when it is expired (`expired`, which
    says how to get a new link) or not valid."""
    if token is None:
        data = request.POST if request.method == "POST" else request.GET
        token = data.get("t")
    try:
        return read_token(token, purpose), token, None
    except ExpiredToken:
        return None, token, expired
    except InvalidToken:
        return (
            None,
            token,
            _(
                "This link is not valid. Please check that you copied "
                "the whole address from the e-mail."
            ),
        )


def link_problem(request, message: str, status: int = 400):
    return render(
        request, "core/link_problem.html", {"message": message}, status=status
    )
