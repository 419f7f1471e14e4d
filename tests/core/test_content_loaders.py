"""core finds the apps' content loaders without naming the apps."""

from core.management.commands.load_campaign_content import content_loaders


def test_content_loads_pages_first_then_the_apps_that_refer_to_them():
    modules = [load.__module__ for load in content_loaders()]
    assert modules == [
        "pages.content",
        "petitions.content",
        "newsletters.content",
        "reports.content",
    ]
