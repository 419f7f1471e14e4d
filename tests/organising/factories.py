"""Helpers for the back office's tests: organisers and rebuilt counts."""

from organising.paper import signature_counts_reconcile
from petitions.models import Petition
from tests.petitions.factories import staff_user


def recount(petition: Petition) -> None:
    """Rebuild the running counts the dashboard's by-country list reads."""
    signature_counts_reconcile(petition=petition)


def organiser(username: str = "organiser@example.org", **kwargs):
    return staff_user(username, groups=["Organisers"], **kwargs)
