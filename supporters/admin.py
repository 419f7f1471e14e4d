from django.contrib import admin

from core.admin_mixins import ReadOnlyAdminMixin

from .models import SupporterRequest


@admin.register(SupporterRequest)
class SupporterRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What supporters asked about their own data and what came of it: no
    personal data (see supporters.models)."""

    list_display = ["day", "kind", "outcome"]
    list_filter = ["kind", "outcome", "day"]
    date_hierarchy = "day"
