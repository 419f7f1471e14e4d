from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from newsletters.models import Entry
from pages.models import Page
from petitions.models import Petition
from reports.models import Report


class TranslatedSitemap(Sitemap):
    """Every page in each language, each URL listing its other-language twins
    (xhtml:link hreflang), with English as the x-default."""

    i18n = True
    alternates = True
    x_default = True

    def lastmod(self, obj):
        return obj.updated_at


class StaticViewSitemap(TranslatedSitemap):
    changefreq = "weekly"

    def items(self):
        return ["home", "newsletters:index", "reports:index"]

    lastmod = None  # named views, not rows

    def location(self, item):
        return reverse(item)


class PageSitemap(TranslatedSitemap):
    changefreq = "monthly"

    def items(self):
        return Page.objects.all()


class PetitionSitemap(TranslatedSitemap):
    changefreq = "daily"

    def items(self):
        return Petition.objects.public().order_by("slug")


class EntrySitemap(TranslatedSitemap):
    changefreq = "monthly"

    def items(self):
        # Drafts and scheduled entries stay out until they are public.
        return Entry.objects.published()


class ReportSitemap(TranslatedSitemap):
    changefreq = "yearly"

    def items(self):
        return Report.objects.published()


SITEMAPS = {
    "static": StaticViewSitemap,
    "pages": PageSitemap,
    "petitions": PetitionSitemap,
    "news": EntrySitemap,
    "reports": ReportSitemap,
}
