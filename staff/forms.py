from django import forms


class CodeForm(forms.Form):
    """A code from an authenticator app, or a recovery code (the template
    renders the field, with the hints a phone keyboard needs)."""

    code = forms.CharField(label="Code", max_length=20, strip=True)
