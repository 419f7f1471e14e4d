"""The subscribe form: it checks the shape; newsletters.services applies the rules."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from petitions import validators


class SubscribeForm(forms.Form):
    email = forms.CharField(
        label=_("E-mail address"),
        required=False,  # checked by clean_email, with our own messages
        help_text=_("We send a link to confirm. Every update has a link to stop them."),
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "maxlength": validators.EMAIL_MAX_LENGTH}
        ),
    )
    # A field people never see. Bots that fill every input give themselves away.
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_email(self):
        try:
            return validators.clean_email(self.cleaned_data.get("email", ""))
        except ValidationError as error:
            raise ValidationError(error.messages) from None

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
