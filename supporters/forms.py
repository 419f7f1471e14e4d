"""The supporters' forms: they check the shape; supporters.services applies
the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import PublicForm, clean_email_field, email_field, honeypot_field
from petitions import validators


class LinkRequestForm(PublicForm):
    email = email_field(
        help_text=_(
            "If we hold anything about this address, we send a link to it. "
            "Only someone who can read that mailbox can open the page."
        )
    )
    website = honeypot_field()

    def clean_email(self):
        return clean_email_field(self.cleaned_data.get("email", ""))


class NameForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your name as it should be"),
        required=False,  # checked by clean_full_name, with the sign form's messages
        widget=forms.TextInput(
            attrs={"autocomplete": "name", "maxlength": validators.NAME_MAX_LENGTH}
        ),
    )

    def clean_full_name(self):
        return validators.clean_full_name(self.cleaned_data.get("full_name", ""))
