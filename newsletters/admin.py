import csv
import io

from csp.constants import NONE, UNSAFE_INLINE
from csp.decorators import csp_replace
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline
from modeltranslation.utils import get_translation_fields

from core.admin_mixins import (
    ConstraintRaceAdminMixin,
    ListFilterLookupsOnlyAdminMixin,
    ReadOnlyAdminMixin,
    TimeZoneHelpAdminMixin,
    search_by_address,
)
from core.spreadsheets import spreadsheet_safe

from . import services
from .emails import (
    MY_DATA_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    issue_render,
    unsubscribe_url,
)
from .models import Delivery, Entry, EntrySource, Issue, Subscriber
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


# ------------------------------------------------------------------------------
# The mailing list and the issues e-mailed to it
# ------------------------------------------------------------------------------
class IssueAdminForm(forms.ModelForm):
    class Meta:
        model = Issue
        fields = ["subject", "entries"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Published entries, including those scheduled for later (an issue
        # can be scheduled with them); drafts cannot be e-mailed.
        self.fields["entries"].queryset = Entry.objects.filter(
            is_published=True
        ).order_by("-pub_date")


@admin.register(Issue)
class IssueAdmin(TranslationAdmin):
    form = IssueAdminForm
    list_display = ["__str__", "status", "send_at", "recipients", "sent_count"]
    list_filter = ["status"]
    filter_horizontal = ["entries"]
    readonly_fields = ["status", "send_at", "queued_at", "finished_at", "recipients"]
    fieldsets = [
        (None, {"fields": ["subject", "entries"]}),
        (
            _("Sending"),
            {"fields": ["status", "send_at", "queued_at", "finished_at", "recipients"]},
        ),
    ]
    change_form_template = "admin/newsletters/issue/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent_total=Count("deliveries", filter=Q(deliveries__state="sent"))
            )
        )

    @admin.display(description=_("sent"), ordering="sent_total")
    def sent_count(self, obj):
        return obj.sent_total

    def has_change_permission(self, request, obj=None):
        # Once queued, what was sent is a record: it no longer changes.
        if obj is not None and obj.status in (Issue.Status.SENDING, Issue.Status.SENT):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != Issue.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def may_send(self, request) -> bool:
        return request.user.has_perm("newsletters.send_issue")

    def get_urls(self):
        def view(function, methods):
            return self.admin_site.admin_view(require_http_methods(methods)(function))

        return [
            path(
                "<int:pk>/preview/<str:language>.<str:fmt>",
                view(self.preview_view, ["GET"]),
                name="newsletters_issue_preview",
            ),
            path(
                "<int:pk>/send-test/",
                view(self.send_test_view, ["POST"]),
                name="newsletters_issue_send_test",
            ),
            path(
                "<int:pk>/send/",
                view(self.send_view, ["GET", "POST"]),
                name="newsletters_issue_send",
            ),
            path(
                "<int:pk>/schedule/",
                view(self.schedule_view, ["POST"]),
                name="newsletters_issue_schedule",
            ),
            path(
                "<int:pk>/progress/",
                view(self.progress_view, ["GET"]),
                name="newsletters_issue_progress",
            ),
            *super().get_urls(),
        ]

    def _issue(self, request, pk, *, send=False):
        issue = get_object_or_404(Issue, pk=pk)
        if not self.has_view_permission(request, issue):
            raise PermissionDenied
        if send and not self.may_send(request):
            raise PermissionDenied
        return issue

    def _back(self, issue):
        return HttpResponseRedirect(
            reverse("admin:newsletters_issue_change", args=[issue.pk])
        )

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        context["may_send"] = self.may_send(request)
        context["preview_links"] = (
            [
                (name, code, fmt)
                for code, name in settings.LANGUAGES
                for fmt in ("html", "txt")
            ]
            if obj
            else []
        )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    # The e-mail as it will be sent: its own inline styles, nothing else.
    @method_decorator(csp_replace({"style-src": [UNSAFE_INLINE], "img-src": [NONE]}))
    def preview_view(self, request, pk, language, fmt):
        issue = self._issue(request, pk)
        if language not in dict(settings.LANGUAGES) or fmt not in ("html", "txt"):
            raise Http404
        rendered = issue_render(issue, language)
        link = unsubscribe_url(0, language)
        if fmt == "txt":
            body = f"Subject: {rendered.subject}\n\n{rendered.text}"
            return HttpResponse(
                body.replace(UNSUBSCRIBE_PLACEHOLDER, link).replace(
                    MY_DATA_PLACEHOLDER, link
                ),
                content_type="text/plain; charset=utf-8",
            )
        html = rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, link)
        # The preview's links go nowhere useful: no subscriber's page exists.
        return HttpResponse(html.replace(MY_DATA_PLACEHOLDER, link))

    def send_test_view(self, request, pk):
        issue = self._issue(request, pk, send=True)
        if not request.user.email:
            self.message_user(
                request,
                _("Your user has no e-mail address: add one to receive the test."),
                messages.ERROR,
            )
            return self._back(issue)
        try:
            sent = services.issue_send_test(issue=issue, to=request.user.email)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        except Exception as error:
            self.message_user(
                request,
                _("The mail server refused the test (%(error)s).")
                % {"error": type(error).__name__},
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                ngettext(
                    "%(count)d test e-mail sent to %(address)s.",
                    "%(count)d test e-mails (one per language) sent to %(address)s.",
                    sent,
                )
                % {"count": sent, "address": request.user.email},
                messages.SUCCESS,
            )
        return self._back(issue)

    def send_view(self, request, pk):
        """A confirmation step that names the number of recipients, then the send."""
        issue = self._issue(request, pk, send=True)
        if request.method == "POST":
            try:
                recipients = services.issue_queue(issue=issue, user=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return self._back(issue)
            self.message_user(
                request,
                ngettext(
                    "The issue is on its way to %(count)s subscriber.",
                    "The issue is on its way to %(count)s subscribers.",
                    recipients,
                )
                % {"count": intcomma(recipients)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:newsletters_issue_progress", args=[issue.pk])
            )
        problem = None
        try:
            services.check_sendable(issue=issue)
        except ValidationError as error:
            problem = " ".join(error.messages)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send this issue to the list?"),
            "opts": self.model._meta,
            "original": issue,
            "issue": issue,
            "recipients": services.issue_recipient_count(),
            "problem": problem,
            "already": issue.status in (Issue.Status.SENDING, Issue.Status.SENT),
        }
        return TemplateResponse(
            request, "admin/newsletters/issue/send_confirm.html", context
        )

    def schedule_view(self, request, pk):
        issue = self._issue(request, pk, send=True)
        try:
            if request.POST.get("action") == "unschedule":
                services.issue_unschedule(issue=issue)
                self.message_user(
                    request, _("The issue is a draft again."), messages.SUCCESS
                )
            else:
                issue = services.issue_schedule(issue=issue)
                self.message_user(
                    request,
                    _(
                        "The issue will be sent on %(date)s, when its entries "
                        "are public."
                    )
                    % {
                        "date": date_format(
                            timezone.localtime(issue.send_at), "DATETIME_FORMAT"
                        )
                    },
                    messages.SUCCESS,
                )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        return self._back(issue)

    def progress_view(self, request, pk):
        issue = self._issue(request, pk)
        progress = services.issue_progress(issue=issue)
        settled = sum(
            count
            for state, count in progress.items()
            if state not in (Delivery.State.QUEUED, Delivery.State.SENDING)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Progress of “%(issue)s”") % {"issue": issue},
            "opts": self.model._meta,
            "original": issue,
            "issue": issue,
            "states": [
                (Delivery.State(state).label, state, count)
                for state, count in progress.items()
            ],
            "total": sum(progress.values()),
            "settled": settled,
            "retransmitted": services.issue_retransmitted_count(issue=issue),
            "running": issue.status == Issue.Status.SENDING,
        }
        return TemplateResponse(
            request, "admin/newsletters/issue/progress.html", context
        )


@admin.register(Subscriber)
class SubscriberAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """The list without its addresses: those need organising.export_emails."""

    list_display = ["id", "status", "language", "source", "created_at", "confirmed_at"]
    list_filter = ["status", "language", "source"]
    # An exact address finds its subscriber, by its blind index, without
    # listing any address (get_search_results).
    search_fields = ["=email_normalised"]
    # organising.admin adds "export_addresses", which it logs.
    actions = ["unsubscribe_selected"]

    def get_list_display(self, request):
        return hide_source(request, super().get_list_display(request))

    def get_list_filter(self, request):
        return hide_source(request, super().get_list_filter(request))

    def get_fields(self, request, obj=None):
        fields = [
            "status",
            "language",
            "source",
            "consent_version",
            "consent_language",
            "created_at",
            "confirmed_at",
            "form_confirmed_at",
            "status_changed_at",
        ]
        if may_see_addresses(request.user):
            fields.insert(0, "email")
        return hide_source(request, fields)

    def get_search_results(self, request, queryset, search_term):
        return search_by_address(queryset, search_term)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not may_see_addresses(request.user):
            actions.pop("export_addresses", None)
        if not request.user.has_perm("newsletters.send_issue"):
            actions.pop("unsubscribe_selected", None)
        return actions

    @admin.action(description=_("Unsubscribe the selected subscribers"))
    def unsubscribe_selected(self, request, queryset):
        count = sum(
            services.subscriber_unsubscribe(subscriber_id=pk)
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d subscriber unsubscribed.",
                "%(count)d subscribers unsubscribed.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


def hide_source(request, names):
    """A subscriber's source says whether that person signed, which only
    staff who may read signatures may know."""
    if request.user.has_perm("petitions.view_signature"):
        return names
    return [name for name in names if name != "source"]


def may_see_addresses(user) -> bool:
    """The same extra permission as the signers' addresses."""
    return user.has_perm("organising.export_emails")


def subscriber_csv_rows(queryset, chunk_size: int = 2000):
    """CSV text in chunks, read by primary-key pages: constant memory at any
    size, and no server-side cursor to outlive the request's transaction."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "language", "source", "confirmed_at"])
    last = 0
    while True:
        rows = list(
            queryset.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "email", "language", "source", "confirmed_at")[
                :chunk_size
            ]
        )
        for pk, email, language, source, confirmed_at in rows:
            writer.writerow(
                [spreadsheet_safe(email), language, source, confirmed_at.isoformat()]
            )
            last = pk
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < chunk_size:
            return


@admin.register(Delivery)
class DeliveryAdmin(
    ListFilterLookupsOnlyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    list_display = ["id", "issue", "subscriber_id", "state", "attempts", "sent_at"]
    list_filter = ["state", "issue"]
    list_select_related = ["issue"]
    fields = [
        "issue",
        "subscriber_id",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "updated_at",
    ]
    readonly_fields = fields
    show_full_result_count = False
