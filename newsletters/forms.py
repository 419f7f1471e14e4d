"""The subscribe form: it checks the shape; newsletters.services applies the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import email_addresses
from core.forms import PublicForm, honeypot_field


class SubscribeForm(PublicForm):
    email = forms.CharField(
        label=_("E-mail address"),
        required=False,  # checked by clean_email, with our own messages
        help_text=_("We send a link to confirm. Every update has a link to stop them."),
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
