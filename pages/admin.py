from django.contrib import admin

from peru_campaign.admin_mixins import ConstraintRaceAdminMixin

from .models import Page, TimelineEvent


class TimelineEventInline(admin.StackedInline):
    model = TimelineEvent
    extra = 0


@admin.register(Page)
class PageAdmin(ConstraintRaceAdminMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "body"]
    inlines = [TimelineEventInline]
