"""Forms of the organisers' back office."""

from django import forms
from django.utils.translation import gettext_lazy as _


class BulkInvalidationForm(forms.Form):
    created_from = forms.DateTimeField(
        label=_("Signed from"),
        required=False,
        help_text=_("For example 2026-11-30 14:00"),
    )
    created_until = forms.DateTimeField(label=_("Signed before"), required=False)
    ip_hash = forms.CharField(label=_("IP hash"), required=False, max_length=32)
    email_domain = forms.CharField(
        label=_("E-mail domain"), required=False, max_length=254
    )
    country = forms.CharField(
        label=_("Country code"), required=False, max_length=2, min_length=2
    )
    name_contains = forms.CharField(
        label=_("Name contains"), required=False, max_length=100
    )
