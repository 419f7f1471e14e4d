from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin
from modeltranslation.utils import get_translation_fields

from core.admin_mixins import (
    ConstraintRaceAdminMixin,
    ListFilterLookupsOnlyAdminMixin,
    ReadOnlyAdminMixin,
    TimeZoneHelpAdminMixin,
    search_by_address,
)

from . import services, validators
from .models import (
    BlockedAddressRange,
    BlockedEmailDomain,
    Petition,
    Signature,
    SigningPause,
    SiteBanner,
)


@admin.register(Petition)
class PetitionAdmin(
    TimeZoneHelpAdminMixin,
    ConstraintRaceAdminMixin,
    TranslationAdmin,
):
    """Petitions. The partners' widget code is added by api.admin."""

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


@admin.register(Signature)
class SignatureAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """Signatures are written by signers only; staff can read and invalidate them."""

    list_display = ["id", "petition", "status", "country", "created_at", "confirmed_at"]
    list_filter = ["status", "petition", "country", "wants_updates", "show_publicly"]
    # Names and addresses are encrypted: an exact address is found by its
    # blind index (get_search_results); names cannot be searched.
    search_fields = ["=email_normalised", "=ip_hash"]
    search_help_text = _("Search by exact e-mail address or exact IP hash.")
    # No date_hierarchy: its year/month links scan the whole table on each load.
    list_select_related = ["petition"]
    show_full_result_count = False
    actions = [
        "invalidate_selected",
        "invalidate_same_ip_hash",
        "invalidate_same_email_domain",
    ]

    def get_search_results(self, request, queryset, search_term):
        return search_by_address(queryset, search_term, other_field="ip_hash")

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


# The surge switches. The admin's own change log (LogEntry, under "Recent
# actions" and each object's history) records who switched what, and when.
@admin.register(SigningPause)
class SigningPauseAdmin(ListFilterLookupsOnlyAdminMixin, TranslationAdmin):
    list_display = ["__str__", "created_at"]
    fields = ["petition", "message"]


@admin.register(SiteBanner)
class SiteBannerAdmin(ListFilterLookupsOnlyAdminMixin, TranslationAdmin):
    list_display = ["text", "is_active", "updated_at"]
    list_editable = ["is_active"]
    fields = ["text", "is_active"]


# The block lists: each entry is cleaned to the form the sign statement
# compares (a lower-case ASCII domain, a network without host bits), and a
# mistyped one is refused with a message saying what to type.
class BlockedEmailDomainForm(forms.ModelForm):
    class Meta:
        model = BlockedEmailDomain
        fields = ["domain", "note"]

    def clean_domain(self):
        return validators.clean_blocked_domain(self.cleaned_data["domain"])


class BlockedAddressRangeForm(forms.ModelForm):
    class Meta:
        model = BlockedAddressRange
        fields = ["cidr", "note"]

    def clean_cidr(self):
        return validators.clean_address_range(self.cleaned_data["cidr"])


@admin.register(BlockedEmailDomain)
class BlockedEmailDomainAdmin(ListFilterLookupsOnlyAdminMixin, admin.ModelAdmin):
    form = BlockedEmailDomainForm
    list_display = ["domain", "note", "created_at"]
    search_fields = ["domain", "note"]


@admin.register(BlockedAddressRange)
class BlockedAddressRangeAdmin(ListFilterLookupsOnlyAdminMixin, admin.ModelAdmin):
    form = BlockedAddressRangeForm
    list_display = ["cidr", "note", "created_at"]
    search_fields = ["note"]
