from django.contrib import admin
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline
from modeltranslation.utils import get_translation_fields

from core.admin_mixins import ConstraintRaceAdminMixin

from .models import Page, TimelineEvent


class TimelineEventInline(TranslationStackedInline):
    model = TimelineEvent
    extra = 0


@admin.register(Page)
class PageAdmin(ConstraintRaceAdminMixin, TranslationAdmin):
    list_display = ["title", "slug", "updated_at"]
    search_fields = get_translation_fields("title", "body")
    inlines = [TimelineEventInline]
