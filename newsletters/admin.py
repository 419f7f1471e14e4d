from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from modeltranslation.utils import get_translation_fields

from core.admin_mixins import ConstraintRaceAdminMixin, TimeZoneHelpAdminMixin

from .models import Entry, EntrySource
from .services import entry_publish, entry_unpublish


class EntrySourceInline(TranslationTabularInline):
    model = EntrySource
    extra = 1
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = model_admin.get_queryset(request).dates("month", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(month__year=self.value())
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("public", _("Public")),
            ("scheduled", _("Scheduled")),
            ("draft", _("Draft")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "public":
                return queryset.published()
            case "scheduled":
                return queryset.filter(is_published=True, pub_date__gt=now)
            case "draft":
                return queryset.filter(is_published=False)
        return queryset


@admin.register(Entry)
class EntryAdmin(TimeZoneHelpAdminMixin, ConstraintRaceAdminMixin, TranslationAdmin):
    list_display = ["title", "month_covered", "state", "pub_date"]
    list_filter = [YearFilter, StateFilter]
    search_fields = get_translation_fields("title", "summary", "body")
    prepopulated_fields = {"slug": ["title"]}
    inlines = [EntrySourceInline]
    actions = ["publish_entries", "unpublish_entries"]
    readonly_fields = ["preview_link"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "month", "summary", "body"]}),
        (_("Publication"), {"fields": ["is_published", "pub_date", "preview_link"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.has_publish_permission(request):
            readonly.append("is_published")
        return readonly

    def has_publish_permission(self, request):
        return request.user.has_perm("newsletters.publish_entry")

    def view_on_site(self, obj):
        # Drafts have no public address; the preview shows any entry to staff.
        return reverse("newsletters:preview", kwargs={"pk": obj.pk})

    @admin.display(description=_("month"), ordering="month")
    def month_covered(self, obj):
        return date_format(obj.month, "F Y")

    @admin.display(description=_("state"), ordering="is_published")
    def state(self, obj):
        if not obj.is_published:
            return _("Draft")
        if obj.is_scheduled:
            return _("Scheduled")
        return _("Public")

    @admin.display(description=_("preview"))
    def preview_link(self, obj):
        if obj is None or obj.pk is None:
            return _(
                "Press “Save and continue editing” below: the entry stays a "
                "draft unless “Published” is ticked, and links to preview it "
                "in each language then appear here."
            )
        links = []
        for code, name in settings.LANGUAGES:
            with translation.override(code):
                url = reverse("newsletters:preview", kwargs={"pk": obj.pk})
            links.append(
                format_html(
                    '<a href="{}" target="_blank" rel="noopener">{}</a>',
                    url,
                    _("Preview in %(language)s (opens a new tab)") % {"language": name},
                )
            )
        return format_html_join(mark_safe(" · "), "{}", ((link,) for link in links))

    @admin.action(
        description=_("Publish the selected entries now"), permissions=["publish"]
    )
    def publish_entries(self, request, queryset):
        changed = sum(entry_publish(entry=entry) for entry in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d entry published.", "%(count)d entries published.", changed
            )
            % {"count": changed},
            messages.SUCCESS,
        )
        unchanged = queryset.count() - changed
        if unchanged:
            self.message_user(
                request,
                ngettext(
                    "%(count)d entry was already public and was left as it was.",
                    "%(count)d entries were already public and were left as they were.",
                    unchanged,
                )
                % {"count": unchanged},
                messages.INFO,
            )

    @admin.action(
        description=_("Unpublish the selected entries (back to draft)"),
        permissions=["publish"],
    )
    def unpublish_entries(self, request, queryset):
        changed = sum(entry_unpublish(entry=entry) for entry in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d entry unpublished: it is now a draft.",
                "%(count)d entries unpublished: they are now drafts.",
                changed,
            )
            % {"count": changed},
            messages.SUCCESS,
        )
