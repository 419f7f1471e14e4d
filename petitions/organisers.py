"""The organisers' area of the admin: the campaign dashboard and its downloads.

Served under /admin/petitions/petition/dashboard/ by PetitionAdmin (which mixes
`OrganisersAdminMixin` in), so the admin's login, staff check and never-cache
headers apply. Who may see what is defined once, in `exports` (the
permissions and the list of downloads built from the export kinds).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from . import exports, paper
from .dashboard import petition_dashboard
from .models import PaperBatch, PaperBatchChange, Petition


class OrganisersAdminMixin:
    """Adds the dashboard and the download views to a ModelAdmin of Petition."""

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(require_GET(function))

        return [
            path(
                "dashboard/",
                view(self.dashboard_view),
                name="petitions_petition_dashboard",
            ),
            path(
                "dashboard/<slug:slug>/",
                view(self.dashboard_view),
                name="petitions_petition_dashboard",
            ),
            path(
                "dashboard/<slug:slug>/<str:kind>.<str:extension>",
                view(self.export_view),
                name="petitions_petition_export",
            ),
            *super().get_urls(),
        ]

    def dashboard_view(self, request, slug=None):
        if not request.user.has_perm(exports.DASHBOARD_PERMISSION):
            raise PermissionDenied
        petitions = list(Petition.objects.featured())
        if slug is None:
            petition = petitions[0] if petitions else None
        else:
            petition = next((p for p in petitions if p.slug == slug), None)
            if petition is None:
                raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": _("Campaign dashboard"),
            "opts": self.model._meta,
            "petitions": petitions,
            "petition": petition,
            "dashboard": petition_dashboard(petition=petition) if petition else None,
            "downloads": (
                exports.downloads_for(request.user, petition=petition)
                if petition
                else []
            ),
            "may_view_exports": request.user.has_perm(exports.VIEW_EXPORTS_PERMISSION),
        }
        return TemplateResponse(request, "admin/petitions/dashboard.html", context)

    def export_view(self, request, slug, kind, extension):
        if kind not in exports.Kind.values or exports.EXTENSIONS[kind] != extension:
            raise Http404
        with_emails = request.GET.get("emails") == "1"
        if with_emails and kind != exports.Kind.DELIVERY:
            raise Http404
        if not exports.user_may_export(
            request.user, kind=kind, with_emails=with_emails
        ):
            raise PermissionDenied
        petition = get_object_or_404(Petition, slug=slug)
        _record, chunks = exports.export_file(
            petition=petition, kind=kind, with_emails=with_emails, user=request.user
        )
        response = StreamingHttpResponse(
            chunks, content_type=exports.CONTENT_TYPES[extension]
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True,
            filename=exports.export_filename(
                petition=petition, kind=kind, with_emails=with_emails
            ),
        )
        # Ask a buffering proxy (nginx) to pass the rows on as they come.
        response["X-Accel-Buffering"] = "no"
        return response


# ------------------------------------------------------------------------------
# Paper and street signatures (petitions.paper)
# ------------------------------------------------------------------------------
@admin.register(PaperBatch)
class PaperBatchAdmin(admin.ModelAdmin):
    """Organisers enter, correct and delete batches (the Organisers group holds
    the model's permissions); each write goes through petitions.paper, which
    moves the counts and keeps the audit trail."""

    list_display = [
        "collected_on",
        "petition",
        "country",
        "count",
        "collected_by",
        "updated_by",
        "updated_at",
    ]
    list_filter = ["petition", "country"]
    search_fields = ["collected_by", "note"]
    list_select_related = ["petition", "updated_by"]
    date_hierarchy = "collected_on"
    fields = [
        "petition",
        "country",
        "count",
        "collected_on",
        "collected_by",
        "note",
        "names",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
    ]
    readonly_fields = ["created_by", "created_at", "updated_by", "updated_at"]
    # One at a time, so each deletion is audited and moves the count.
    actions = None

    def save_model(self, request, obj, form, change):
        paper.paper_batch_save(batch=obj, user=request.user)

    def delete_model(self, request, obj):
        paper.paper_batch_delete(batch=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for batch in queryset:
            paper.paper_batch_delete(batch=batch, user=request.user)


@admin.register(PaperBatchChange)
class PaperBatchChangeAdmin(admin.ModelAdmin):
    """The audit trail of paper batches. Read-only, for everyone."""

    list_display = ["at", "petition", "batch_id", "action", "user_name"]
    list_filter = ["action", "petition"]
    search_fields = ["=batch_id", "user_name"]
    list_select_related = ["petition"]
    readonly_fields = [
        "petition",
        "batch_id",
        "action",
        "user",
        "user_name",
        "at",
        "before",
        "after",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
