"""The supporters' forms: they check the shape; supporters.services applies
the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import email_addresses
from core.forms import PublicForm, honeypot_field
from petitions import validators


class LinkRequestForm(PublicForm):
    email = forms.CharField(
        label=_("E-mail address"),
        required=False,  # checked by clean_email, with our own messages
        help_text=_(
            "If we hold anything about this address, we send a link to it. "
            "Only someone who can read that mailbox can open the page."
        ),
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "email",
                "maxlength": email_addresses.EMAIL_MAX_LENGTH,
            }
        ),
    )
    website = honeypot_field()

    def clean_email(self):
        try:
            return email_addresses.clean_email(self.cleaned_data.get("email", ""))
        except ValidationError as error:
            raise ValidationError(error.messages) from None


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
