from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Petition, Signature


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = ["title", "state", "goal", "opens_at", "closes_at", "created_at"]
    list_filter = ["state"]
    search_fields = ["title", "summary"]
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


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    """Signatures are written by signers only; staff can read and invalidate them."""

    list_display = ["id", "petition", "status", "country", "created_at", "confirmed_at"]
    list_filter = ["status", "petition", "country", "wants_updates", "show_publicly"]
    search_fields = ["=email_normalised", "=ip_hash", "full_name"]
    search_help_text = _("Search by exact e-mail address, exact IP hash, or name.")
    date_hierarchy = "created_at"
    list_select_related = ["petition"]
    show_full_result_count = False
    actions = [
        "invalidate_selected",
        "invalidate_same_ip_hash",
        "invalidate_same_email_domain",
    ]
    readonly_fields = [field.name for field in Signature._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewing is allowed through the view permission; nothing is edited by hand.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("petitions.invalidate_signature"):
            return {}
        return actions

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

    @admin.action(description=_("Invalidate the selected signatures"))
    def invalidate_selected(self, request, queryset):
        self._report(request, services.signatures_invalidate(signatures=queryset))

    @admin.action(
        description=_("Invalidate every signature sharing an IP hash with the selected")
    )
    def invalidate_same_ip_hash(self, request, queryset):
        pairs = set(queryset.exclude(ip_hash="").values_list("petition_id", "ip_hash"))
        condition = Q(pk__in=[])
        for petition_id, ip_hash in pairs:
            condition |= Q(petition_id=petition_id, ip_hash=ip_hash)
        matching = Signature.objects.filter(condition)
        self._report(request, services.signatures_invalidate(signatures=matching))

    @admin.action(
        description=_(
            "Invalidate every signature sharing an e-mail domain with the selected"
        )
    )
    def invalidate_same_email_domain(self, request, queryset):
        total = 0
        for signature in queryset.exclude(email_normalised=None).select_related(
            "petition"
        ):
            total += services.signatures_invalidate_matching(
                petition=signature.petition, email_domain=signature.email_domain
            )
        self._report(request, total)
