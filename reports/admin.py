from django.contrib import admin
from django.db import models
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from modeltranslation.utils import get_translation_fields

from core.admin_mixins import ConstraintRaceAdminMixin

from .models import Report, ReportConcern


class ReportConcernInline(TranslationTabularInline):
    model = ReportConcern
    extra = 1


@admin.register(Report)
class ReportAdmin(ConstraintRaceAdminMixin, TranslationAdmin):
    list_display = ["title", "publisher", "year", "is_published"]
    list_filter = ["is_published", "year", "publisher"]
    search_fields = get_translation_fields(
        "title", "publisher", "summary", "concerns__text"
    )
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ReportConcernInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
