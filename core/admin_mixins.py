"""Shared behaviour for the campaign's admin pages."""

from django.db import IntegrityError


class ConstraintRaceAdminMixin:
    """Turn a unique-constraint race into the form's own error message.

    The admin form checks unique constraints before saving, but two editors
    saving the same slug at the same moment can both pass that check; the
    database then refuses the second save with an IntegrityError, which would
    be a 500 page. The whole save runs in one transaction, so nothing was
    written: showing the form again runs the check once more, and now it
    finds the other editor's row and explains the clash next to the field,
    with everything the editor typed still in place.
    """

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except IntegrityError:
            return super().changeform_view(request, *args, **kwargs)
