from django.contrib import admin

from .models import Page, TimelineEvent


class TimelineEventInline(admin.StackedInline):
    model = TimelineEvent
    extra = 0


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "body"]
    inlines = [TimelineEventInline]
