"""Shared behaviour for the campaign's admin pages."""

from django.conf import settings
from django.contrib.admin.filters import FieldListFilter, SimpleListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.db import IntegrityError, models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.encryption import email_indexes


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


class TimeZoneHelpAdminMixin:
    """Say, beside every date-and-time field, which clock its times are on.

    Times typed in the admin are read in settings.TIME_ZONE (the campaign's,
    not the editor's), so an editor in another country schedules correctly.
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(db_field, models.DateTimeField):
            zone = _("Times are in the %(zone)s time zone.") % {
                "zone": settings.TIME_ZONE
            }
            field.help_text = format_lazy("{} {}", field.help_text or "", zone).strip()
        return field


class ReadOnlyAdminMixin:
    """Rows written only by the services: staff may look, never add, edit or delete.

    Signatures change through signing, withdrawal and invalidation; a record
    kept as evidence (an export, an audit trail, an alert) is only worth
    something if nobody can tidy it away.
    """

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def search_by_address(queryset, search_term: str, *, other_field: str = ""):
    """An admin search for an exact e-mail address, by its blind index (the
    address itself is encrypted), or for an exact `other_field` value.
    Returns what ModelAdmin.get_search_results returns."""
    term = search_term.strip()
    if not term:
        return queryset, False
    if "@" in term:
        return queryset.filter(email_normalised__in=email_indexes(term)), False
    if other_field:
        return queryset.filter(**{other_field: term}), False
    return queryset.none(), False


class ListFilterLookupsOnlyAdminMixin:
    """Accept in a changelist's address only the look-ups its list filters make.

    Django lets any look-up on a model's own fields through the changelist's
    query string, so `?email__startswith=a` answers "1 subscriber" and, a
    letter at a time, spells out an address the page never shows. Here a
    parameter is accepted only if one of the page's own filters (or its date
    hierarchy) would put it there; anything else is refused with a 400.
    """

    def lookup_allowed(self, lookup, value, request=None):
        if lookup not in self._list_filter_parameters(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def _list_filter_parameters(self, request) -> frozenset[str]:
        # The filters are built once per request: a related field's filter
        # reads its choices from the database.
        cache = getattr(request, "_list_filter_parameters", None)
        if cache is None:
            cache = {}
            if request is not None:
                request._list_filter_parameters = cache
        key = type(self)
        if key not in cache:
            cache[key] = frozenset(self._build_list_filter_parameters(request))
        return cache[key]

    def _build_list_filter_parameters(self, request):
        parameters = set()
        if self.date_hierarchy:
            parameters.update(
                f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")
            )
        list_filter = (
            self.get_list_filter(request) if request is not None else self.list_filter
        )
        for item in list_filter:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                parameters.add(item.parameter_name)
                continue
            if isinstance(item, (list, tuple)):
                field_path, filter_class = item
            else:
                field_path, filter_class = item, FieldListFilter.create
            field = get_fields_from_path(self.model, field_path)[-1]
            spec = filter_class(
                field, request, {}, self.model, self, field_path=field_path
            )
            parameters.update(spec.expected_parameters())
        return parameters
