"""The back office's records in the admin: exports, paper batches, fraud watch.

Paper batches are written through organising.paper (counts and audit trail);
the other records are written by the services only, so staff read them.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_mixins import ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin
from newsletters.admin import SubscriberAdmin, may_see_addresses, subscriber_csv_rows
from newsletters.models import Subscriber

from . import exports, fraud, milestones, paper
from .models import (
    BulkInvalidation,
    Milestone,
    PaperBatch,
    PaperBatchChange,
    SignatureAlert,
    SignatureExport,
)


@admin.register(SignatureExport)
class SignatureExportAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """Every CSV export, from the dashboard or the command line. Read-only."""

    list_display = [
        "created_at",
        "petition",
        "kind",
        "with_emails",
        "requested_by",
        "row_count",
        "finished",
    ]
    list_filter = ["kind", "with_emails", "finished", "petition"]
    search_fields = ["requested_by"]
    date_hierarchy = "created_at"
    list_select_related = ["petition"]


# ------------------------------------------------------------------------------
# Paper and street signatures (organising.paper)
# ------------------------------------------------------------------------------
@admin.register(PaperBatch)
class PaperBatchAdmin(ListFilterLookupsOnlyAdminMixin, admin.ModelAdmin):
    """Organisers enter, correct and delete batches (the Organisers group holds
    the model's permissions); each write goes through organising.paper, which
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
class PaperBatchChangeAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
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


@admin.register(BulkInvalidation)
class BulkInvalidationAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
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
        return request.user.has_perm(fraud.INVALIDATE_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(fraud.INVALIDATE_PERMISSION)

    def has_undo_permission(self, request):
        return request.user.has_perm(fraud.INVALIDATE_PERMISSION)

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
class SignatureAlertAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """Fraud-watch alerts already e-mailed. Read-only; for dashboard viewers."""

    list_display = ["hour", "petition", "kind", "value", "count"]
    list_filter = ["kind", "petition"]
    list_select_related = ["petition"]

    def has_module_permission(self, request):
        return request.user.has_perm(exports.DASHBOARD_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(exports.DASHBOARD_PERMISSION)


def _note_count(name: str, description: str):
    """A column of the milestone list: one of the counts of
    milestones.milestones_with_note_progress."""

    @admin.display(description=description, ordering=name)
    def column(milestone):
        return getattr(milestone, name)

    return column


@admin.register(Milestone)
class MilestoneAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """Goals reached and how the notes to signers are going. Read-only: the
    worker records milestones and sends their notes (organising.milestones)."""

    list_display = [
        "petition",
        "goal",
        "reached_at",
        "announce",
        "announced_at",
        _note_count("notes_sent", _("notes sent")),
        _note_count("notes_waiting", _("notes waiting")),
        _note_count("notes_not_sent", _("notes not sent")),
        _note_count("notes_retransmitted", _("sent again after an interruption")),
    ]
    list_filter = ["announce", "petition"]
    list_select_related = ["petition"]

    def get_queryset(self, request):
        return milestones.milestones_with_note_progress(super().get_queryset(request))


# The subscribers' list in the admin, its address export on file in the
# export log like the signers' (newsletters' admin is registered first:
# INSTALLED_APPS lists newsletters before organising).
admin.site.unregister(Subscriber)


@admin.register(Subscriber)
class SubscriberWithExportLogAdmin(SubscriberAdmin):
    actions = ["export_addresses", *SubscriberAdmin.actions]

    @admin.action(description=_("Export the selected subscribers’ addresses (CSV)"))
    def export_addresses(self, request, queryset):
        if not may_see_addresses(request.user):
            raise PermissionDenied
        _record, chunks = exports.subscriber_export_csv(
            csv_chunks=subscriber_csv_rows(queryset.receiving()), user=request.user
        )
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename="subscribers.csv"
        )
        return response
