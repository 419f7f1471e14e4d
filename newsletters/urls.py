from django.urls import path, register_converter

from . import feeds, views


class YearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        # Year 0 does not exist (dates start at 1): the URL matches nothing,
        # so /news/0000/... is a 404 rather than an error building the date.
        year = int(value)
        if year < 1:
            raise ValueError("no year 0")
        return year

    def to_url(self, value: int) -> str:
        return f"{int(value):04d}"


class MonthConverter:
    """Two-digit months, so every entry has one address: /news/2024/02/..."""

    regex = "0[1-9]|1[0-2]"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):02d}"


register_converter(YearConverter, "yyyy")
register_converter(MonthConverter, "mm")

app_name = "newsletters"

urlpatterns = [
    path("", views.EntryArchiveIndexView.as_view(), name="index"),
    path("feed/", feeds.LatestEntriesFeed(), name="feed_rss"),
    path("feed/atom/", feeds.LatestEntriesAtomFeed(), name="feed_atom"),
    path("preview/<int:pk>/", views.entry_preview, name="preview"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path(
        "subscribe/check-your-inbox/",
        views.subscribe_check_inbox,
        name="subscribe_check_inbox",
    ),
    path("subscribe/confirm/", views.subscribe_confirm, name="subscribe_confirm"),
    path("unsubscribe/", views.unsubscribe, name="unsubscribe"),
    path("<yyyy:year>/", views.EntryYearArchiveView.as_view(), name="year"),
    path(
        "<yyyy:year>/<mm:month>/", views.EntryMonthArchiveView.as_view(), name="month"
    ),
    path("<yyyy:year>/<mm:month>/<slug:slug>/", views.entry_detail, name="detail"),
]
