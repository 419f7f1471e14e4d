"""The subscribe form: it checks the shape; newsletters.services applies the rules."""

from django.utils.translation import gettext_lazy as _

from core.forms import PublicForm, clean_email_field, email_field, honeypot_field


class SubscribeForm(PublicForm):
    email = email_field(
        help_text=_("We send a link to confirm. Every update has a link to stop them.")
    )
    website = honeypot_field()

    def clean_email(self):
        return clean_email_field(self.cleaned_data.get("email", ""))
