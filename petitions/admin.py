from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from modeltranslation.admin import TranslationAdmin
from modeltranslation.utils import get_translation_fields

from core.admin_mixins import ConstraintRaceAdminMixin
from newsletters.services import subscriber_totals

from . import exports, services
from .dashboard import petition_dashboard
from .models import Petition, Signature, SignatureExport


class ReadOnlyAdminMixin:
    """Rows written only by the services: staff may look, never add, edit or delete.

    Signatures change through signing, withdrawal and invalidation; the export
    record is only worth something if nobody can tidy it away.
    """

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Petition)
class PetitionAdmin(ConstraintRaceAdminMixin, TranslationAdmin):
    list_display = ["title", "state", "goal", "opens_at", "closes_at", "created_at"]
    list_filter = ["state"]
    search_fields = get_translation_fields("title", "summary")
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["confirmed_signatures"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "addressed_to", "body"]}),
        (
            _("Signing"),
            {
                "fields": [
                    "state",
                    "opens_at",
                    "closes_at",
                    "goal",
                    "confirmed_signatures",
                ]
            },
        ),
    ]

    @admin.display(description=_("Confirmed signatures"))
    def confirmed_signatures(self, petition):
        return services.petition_signature_count(petition) if petition.pk else 0

    # --------------------------------------------------------------------------
    # The organisers' dashboard and CSV downloads, under /admin/petitions/petition/
    # so the admin's login, staff check and never-cache headers apply.
    # --------------------------------------------------------------------------
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
                "dashboard/<slug:slug>/<str:kind>.csv",
                view(self.export_view),
                name="petitions_petition_export",
            ),
            *super().get_urls(),
        ]

    def dashboard_view(self, request, slug=None):
        if not request.user.has_perm("petitions.view_dashboard"):
            raise PermissionDenied
        petitions = list(Petition.objects.featured())
        if slug is None:
            petition = petitions[0] if petitions else None
        else:
            petition = next((p for p in petitions if p.slug == slug), None)
            if petition is None:
                raise Http404
        downloads = []
        if petition is not None:
            for kind, with_emails, label in [
                (SignatureExport.Kind.BY_DAY, False, _("Counts by day")),
                (SignatureExport.Kind.BY_COUNTRY, False, _("Counts by country")),
                (SignatureExport.Kind.DELIVERY, False, _("Delivery list")),
                (
                    SignatureExport.Kind.DELIVERY,
                    True,
                    _("Delivery list with e-mail addresses"),
                ),
            ]:
                if exports.user_may_export(
                    request.user, kind=kind, with_emails=with_emails
                ):
                    downloads.append(
                        {"kind": kind, "with_emails": with_emails, "label": label}
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Campaign dashboard"),
            "opts": self.model._meta,
            "petitions": petitions,
            "petition": petition,
            "dashboard": petition_dashboard(petition=petition) if petition else None,
            "downloads": downloads,
            "may_view_exports": request.user.has_perm("petitions.view_signatureexport"),
            # The newsletter's list: counts only, never an address.
            "subscribers": subscriber_totals(),
        }
        return TemplateResponse(request, "admin/petitions/dashboard.html", context)

    def export_view(self, request, slug, kind):
        if kind not in SignatureExport.Kind.values:
            raise Http404
        with_emails = request.GET.get("emails") == "1"
        if with_emails and kind != SignatureExport.Kind.DELIVERY:
            raise Http404
        if not exports.user_may_export(
            request.user, kind=kind, with_emails=with_emails
        ):
            raise PermissionDenied
        petition = get_object_or_404(Petition, slug=slug)
        _record, chunks = exports.export_csv(
            petition=petition, kind=kind, with_emails=with_emails, user=request.user
        )
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True,
            filename=exports.export_filename(
                petition=petition, kind=kind, with_emails=with_emails
            ),
        )
        # Ask a buffering proxy (nginx) to pass the rows on as they come.
        response["X-Accel-Buffering"] = "no"
        return response


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Signatures are written by signers only; staff can read and invalidate them."""

    list_display = ["id", "petition", "status", "country", "created_at", "confirmed_at"]
    list_filter = ["status", "petition", "country", "wants_updates", "show_publicly"]
    search_fields = ["=email_normalised", "=ip_hash", "full_name"]
    search_help_text = _("Search by exact e-mail address, exact IP hash, or name.")
    # No date_hierarchy: its year/month links scan the whole table on each load.
    list_select_related = ["petition"]
    show_full_result_count = False
    actions = [
        "invalidate_selected",
        "invalidate_same_ip_hash",
        "invalidate_same_email_domain",
    ]

    def has_invalidate_permission(self, request):
        return request.user.has_perm("petitions.invalidate_signature")

    def _report(self, request, number):
        self.message_user(
            request,
            ngettext(
                "%(count)d signature invalidated; the count has been updated.",
                "%(count)d signatures invalidated; the count has been updated.",
                number,
            )
            % {"count": number},
            messages.SUCCESS if number else messages.WARNING,
        )

    @admin.action(
        description=_("Invalidate the selected signatures"), permissions=["invalidate"]
    )
    def invalidate_selected(self, request, queryset):
        self._report(request, services.signatures_invalidate(signatures=queryset))

    @admin.action(
        description=_(
            "Invalidate every signature sharing an IP hash with the selected"
        ),
        permissions=["invalidate"],
    )
    def invalidate_same_ip_hash(self, request, queryset):
        matching = services.signatures_sharing_with(queryset, shared="ip_hash")
        self._report(request, services.signatures_invalidate(signatures=matching))

    @admin.action(
        description=_(
            "Invalidate every signature sharing an e-mail domain with the selected"
        ),
        permissions=["invalidate"],
    )
    def invalidate_same_email_domain(self, request, queryset):
        matching = services.signatures_sharing_with(queryset, shared="email_domain")
        self._report(request, services.signatures_invalidate(signatures=matching))


@admin.register(SignatureExport)
class SignatureExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
