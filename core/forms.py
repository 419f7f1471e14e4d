"""What the public forms share (sign, subscribe, the partner widget): the
honeypot, and putting a service's ValidationError on the form."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import email_addresses


def honeypot_field() -> forms.CharField:
    """A field people never see (the templates hide it, as `website`): bots
    that fill every input give themselves away. See PublicForm.is_bot."""
    return forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


def email_field(*, help_text: str) -> forms.CharField:
    """The e-mail address of a public form, checked by clean_email_field with
    our own messages rather than Django's."""
    return forms.CharField(
        label=_("E-mail address"),
        required=False,
        help_text=help_text,
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "email",
                "maxlength": email_addresses.EMAIL_MAX_LENGTH,
            }
        ),
    )


def clean_email_field(value: str) -> str:
    """The address as email_addresses.clean_email tidies it, its problems as
    the field's errors."""
    try:
        return email_addresses.clean_email(value)
    except ValidationError as error:
        raise ValidationError(error.messages) from None


class PublicForm(forms.Form):
    """A form the public POSTs, with `website = honeypot_field()` declared
    where it belongs in the form's order."""

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


def form_add_validation_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: each field's messages
    beside it, and anything about no field of this form at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
