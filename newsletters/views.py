"""The public news pages, their archives, and the staff-only preview."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic.dates import (
    ArchiveIndexView,
    MonthArchiveView,
    YearArchiveView,
)

from .models import Entry


class PublishedEntriesMixin:
    """Date archives keyed on the month an entry covers, published entries only."""

    date_field = "month"
    # Whether an entry is due is decided by its pub_date in published(), not by
    # the month it covers.
    allow_future = True
    ordering = ["-month", "-pub_date"]
    context_object_name = "entries"

    def get_queryset(self):
        # Called per request: published() compares with the current time.
        return Entry.objects.published()


class EntryArchiveIndexView(PublishedEntriesMixin, ArchiveIndexView):
    allow_empty = True


class EntryYearArchiveView(PublishedEntriesMixin, YearArchiveView):
    make_object_list = True


class EntryMonthArchiveView(PublishedEntriesMixin, MonthArchiveView):
    month_format = "%m"


def _render_entry(request, entry, *, preview=False):
    return render(
        request,
        "newsletters/entry_detail.html",
        {"entry": entry, "sources": entry.sources.all(), "preview": preview},
    )


@require_safe
def entry_detail(request, year: int, month: int, slug: str):
    entry = get_object_or_404(
        Entry.objects.published(),
        month__year=year,
        month__month=month,
        slug=slug,
    )
    return _render_entry(request, entry)


@never_cache
@require_safe
def entry_preview(request, pk: int):
    """Any entry, draft or scheduled, as the public will see it; staff only."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (
        request.user.is_staff and request.user.has_perm("newsletters.change_entry")
    ):
        raise PermissionDenied
    entry = get_object_or_404(Entry, pk=pk)
    return _render_entry(request, entry, preview=True)
