from django.contrib import admin
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline

from peru_campaign.admin_mixins import ConstraintRaceAdminMixin

from .models import Page, TimelineEvent


class TimelineEventInline(TranslationStackedInline):
    model = TimelineEvent
    extra = 0


@admin.register(Page)
class PageAdmin(ConstraintRaceAdminMixin, TranslationAdmin):
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title_en", "title_es", "body_en", "body_es"]
    inlines = [TimelineEventInline]
