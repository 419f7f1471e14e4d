"""RSS 2.0 at /news/feed/ and Atom at /news/feed/atom/: published entries only."""

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from .models import Entry


class LatestEntriesFeed(Feed):
    title = _("Stand with the Victims of Repression in Peru: news")
    link = reverse_lazy("newsletters:index")
    description = _(
        "Significant events in Peru each month: justice for the victims of the "
        "2022–23 repression and the state of human rights."
    )

    def items(self):
        return Entry.objects.published().order_by("-pub_date")[:20]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_pubdate(self, item):
        return item.pub_date

    def item_updateddate(self, item):
        return item.updated_at


class LatestEntriesAtomFeed(LatestEntriesFeed):
    feed_type = Atom1Feed
    subtitle = LatestEntriesFeed.description
