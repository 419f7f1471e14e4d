"""The "sign the petition" box that content pages end with, so a reader who
has just learned what happened has somewhere to go."""

from django import template

from petitions.models import Petition

register = template.Library()


@register.inclusion_tag("pages/includes/call_to_action.html")
def sign_call_to_action():
    petition = Petition.objects.featured().first()
    if petition is None or not petition.is_accepting_signatures():
        return {"petition": None}
    return {"petition": petition}
