"""The organisers' area of the admin: the campaign dashboard and its downloads.

Served under /admin/petitions/petition/dashboard/ by PetitionAdmin (which mixes
`OrganisersAdminMixin` in), so the admin's login, staff check and never-cache
headers apply. Who may see what is defined once, in `exports` (the
permissions and the list of downloads built from the export kinds).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from newsletters.services import subscriber_totals

from . import exports, fraud, paper
from .dashboard import petition_dashboard
from .models import (
    BulkInvalidation,
    PaperBatch,
    PaperBatchChange,
    Petition,
    SignatureAlert,
)

INVALIDATE_PERMISSION = "petitions.invalidate_signature"


class BulkInvalidationForm(forms.Form):
    created_from = forms.DateTimeField(
        label=_("Signed from"),
        required=False,
        help_text=_("For example 2026-11-30 14:00"),
    )
    created_until = forms.DateTimeField(label=_("Signed before"), required=False)
    ip_hash = forms.CharField(label=_("IP hash"), required=False, max_length=32)
    email_domain = forms.CharField(
        label=_("E-mail domain"), required=False, max_length=254
    )
    country = forms.CharField(
        label=_("Country code"), required=False, max_length=2, min_length=2
    )
    name_contains = forms.CharField(
        label=_("Name contains"), required=False, max_length=100
    )


class OrganisersAdminMixin:
    """Adds the dashboard and the download views to a ModelAdmin of Petition."""

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(require_safe(function))

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
                "dashboard/<slug:slug>/invalidate/",
                self.admin_site.admin_view(self.bulk_invalidate_view),
                name="petitions_petition_bulk_invalidate",
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
            "may_invalidate": request.user.has_perm(INVALIDATE_PERMISSION),
            "threshold": settings.FRAUD_ALERT_THRESHOLD,
            # The newsletter's list: counts only, never an address.
            "subscribers": subscriber_totals(),
        }
        return TemplateResponse(request, "admin/petitions/dashboard.html", context)

    def bulk_invalidate_view(self, request, slug):
        """GET: the criteria and how many signatures they match. POST: run it."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if not request.user.has_perm(INVALIDATE_PERMISSION):
            raise PermissionDenied
        petition = get_object_or_404(Petition, slug=slug)
        data = request.POST if request.method == "POST" else request.GET
        form = BulkInvalidationForm(data or None)
        matching = None
        if form.is_valid():
            criteria = fraud.Criteria(petition=petition, **form.cleaned_data)
            try:
                matching = fraud.signatures_matching(criteria).count()
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if request.method == "POST":
                    # The worker runs it (petitions.tasks.run_bulk_invalidation);
                    # the list of bulk invalidations shows when it is done.
                    fraud.bulk_invalidation_queue(criteria=criteria, user=request.user)
                    self.message_user(
                        request,
                        ngettext(
                            "The invalidation of the %(count)d matching signature "
                            "is queued; it shows as done in this list in a few "
                            "moments. You can undo it for %(days)d days.",
                            "The invalidation of the %(count)d matching signatures "
                            "is queued; it shows as done in this list in a few "
                            "moments. You can undo it for %(days)d days.",
                            matching,
                        )
                        % {
                            "count": matching,
                            "days": settings.BULK_INVALIDATION_UNDO_DAYS,
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:petitions_bulkinvalidation_changelist")
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Invalidate signatures by criteria"),
            "opts": self.model._meta,
            "petition": petition,
            "form": form,
            "matching": matching,
            "undo_days": settings.BULK_INVALIDATION_UNDO_DAYS,
        }
        return TemplateResponse(
            request, "admin/petitions/bulk_invalidate.html", context
        )

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


@admin.register(BulkInvalidation)
class BulkInvalidationAdmin(admin.ModelAdmin):
    """Bulk invalidations by criteria; each can be undone within the grace period."""

    list_display = [
        "created_at",
        "petition",
        "state",
        "count",
        "created_by",
        "undone_at",
    ]
    list_filter = ["state", "petition"]
    list_select_related = ["petition", "created_by"]
    readonly_fields = [
        "petition",
        "criteria",
        "state",
        "done_at",
        "count",
        "created_by",
        "created_at",
        "undone_by",
        "undone_at",
        "restored",
    ]
    actions = ["undo"]

    def has_module_permission(self, request):
        return request.user.has_perm(INVALIDATE_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(INVALIDATE_PERMISSION)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_undo_permission(self, request):
        return request.user.has_perm(INVALIDATE_PERMISSION)

    @admin.action(
        description=_("Undo the selected invalidations"), permissions=["undo"]
    )
    def undo(self, request, queryset):
        for bulk in queryset:
            try:
                restored = fraud.bulk_invalidation_undo(bulk=bulk, user=request.user)
            except ValidationError as error:
                self.message_user(request, error.messages[0], messages.ERROR)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d signature restored; the count has been updated.",
                        "%(count)d signatures restored; the count has been updated.",
                        restored,
                    )
                    % {"count": restored},
                    messages.SUCCESS,
                )


@admin.register(SignatureAlert)
class SignatureAlertAdmin(admin.ModelAdmin):
    """Fraud-watch alerts already e-mailed. Read-only; for dashboard viewers."""

    list_display = ["hour", "petition", "kind", "value", "count"]
    list_filter = ["kind", "petition"]
    list_select_related = ["petition"]

    def has_module_permission(self, request):
        return request.user.has_perm(exports.DASHBOARD_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(exports.DASHBOARD_PERMISSION)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
