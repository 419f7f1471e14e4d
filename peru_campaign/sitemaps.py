from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from pages.models import Page
from petitions.models import Petition


class StaticViewSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return ["home"]

    def location(self, item):
        return reverse(item)


class PageSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return Page.objects.order_by("slug")

    def lastmod(self, page):
        return page.updated_at


class PetitionSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return Petition.objects.public().order_by("slug")

    def lastmod(self, petition):
        return petition.updated_at


SITEMAPS = {
    "static": StaticViewSitemap,
    "pages": PageSitemap,
    "petitions": PetitionSitemap,
}
