"""API tokens and their audit trail: superusers only.

A token reaches signatures and can add them, so creating and revoking one is
a superuser's job, like granting the e-mail export permission. Tokens are
revoked, never deleted, so the audit trail always names the token used.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import escape, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_mixins import ListFilterLookupsOnlyAdminMixin
from petitions.admin import PetitionAdmin
from petitions.models import Petition

from . import services, widget
from .models import ApiRequest, ApiToken


class SuperuserOnlyMixin:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(
    ListFilterLookupsOnlyAdminMixin, SuperuserOnlyMixin, admin.ModelAdmin
):
    list_display = [
        "name",
        "key_prefix",
        "owner",
        "can_read_signatures",
        "can_read_personal_data",
        "can_record_signatures",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at", "can_record_signatures", "can_read_personal_data"]
    search_fields = ["name", "key_prefix"]
    list_select_related = ["owner"]
    actions = ["revoke_selected"]
    fields = [
        "name",
        "owner",
        "can_read_signatures",
        "can_read_personal_data",
        "can_record_signatures",
        "key_prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        # Scopes of a live token may be narrowed or widened; a revoked one is over.
        if obj is not None and obj.is_revoked:
            return False
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A token's partner and owner are what the audit trail answers to.
        return [*self.readonly_fields, "name", "owner"]

    def save_model(self, request, obj, form, change):
        if not change:
            # Kept on the request only, for the page that shows it once.
            request._new_api_token = obj.set_new_key()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": _("API token created"),
            "opts": self.model._meta,
            "token": obj,
            "raw_token": request._new_api_token,
        }
        return TemplateResponse(request, "admin/api/apitoken/created.html", context)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke_selected(self, request, queryset):
        number = services.api_tokens_revoke(tokens=queryset)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", number)
            % {"count": number},
            messages.SUCCESS if number else messages.WARNING,
        )


@admin.register(ApiRequest)
class ApiRequestAdmin(
    ListFilterLookupsOnlyAdminMixin, SuperuserOnlyMixin, admin.ModelAdmin
):
    """Every request made with a token. Read-only."""

    list_display = ["at", "token", "method", "path", "status"]
    list_filter = ["status", "method", "token"]
    list_select_related = ["token"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# The petition's page in the admin, with the code partners paste to embed the
# sign widget: the widget is this app's, so it adds the field to petitions'
# admin (registered first, INSTALLED_APPS lists petitions before api).
admin.site.unregister(Petition)


@admin.register(Petition)
class PetitionWithWidgetAdmin(PetitionAdmin):
    readonly_fields = [*PetitionAdmin.readonly_fields, "widget_snippets"]
    fieldsets = [
        *PetitionAdmin.fieldsets,
        (_("Sign widget for partners"), {"fields": ["widget_snippets"]}),
    ]

    @admin.display(description=_("Code to paste, per language"))
    def widget_snippets(self, petition):
        if not petition.pk:
            return _("Save the petition first.")
        return format_html_join(
            "",
            '<p><label>{}<br><textarea readonly rows="4" cols="80">{}</textarea>'
            "</label></p>",
            # Escaped: the editor copies the code, not a live frame.
            (
                (language, escape(snippet))
                for language, snippet in widget.widget_snippets(petition)
            ),
        )
