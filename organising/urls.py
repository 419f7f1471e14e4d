"""The organisers' pages, mounted at /admin/petitions/petition/dashboard/.

Each view goes through the admin site's `admin_view` (log-in, staff check,
never cached) like the admin's own pages.
"""

from django.contrib import admin
from django.urls import path
from django.views.decorators.http import require_safe

from . import views

app_name = "organising"


def _admin_view(view, *, safe_only: bool = True):
    return admin.site.admin_view(require_safe(view) if safe_only else view)


urlpatterns = [
    path("", _admin_view(views.dashboard), name="dashboard"),
    # Before the petition's slug, which "status" would otherwise be taken for.
    path("status/", _admin_view(views.system_status_view), name="system_status"),
    path("<slug:slug>/", _admin_view(views.dashboard), name="dashboard"),
    path(
        "<slug:slug>/invalidate/",
        # GET and POST: the view answers other methods itself.
        _admin_view(views.bulk_invalidate, safe_only=False),
        name="bulk_invalidate",
    ),
    path(
        "<slug:slug>/<str:kind>.<str:extension>",
        # POST only (the view says so): never taken by a link or a GET.
        _admin_view(views.export, safe_only=False),
        name="export",
    ),
]
