"""Supporters' own rights in a browser: sign with the name kept out of the
delivery, ask for the link, open the page, correct the name, delete
everything; screenshots of the pages at 390 and 1280 px in both languages
(screenshots/rights-*.png, git-ignored) for people to look at."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail
from procrastinate.contrib.django.models import ProcrastinateJob

from petitions.models import Signature
from supporters.tasks import send_supporter_link
from tests.e2e.steps import (
    DESKTOP,
    PHONE,
    confirmation_email,
    fill_sign_form,
    link_in_email,
    petition_url,
    submit_sign_form,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def _screenshots(page, name: str) -> None:
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.screenshot(
            path=SCREENSHOTS / f"rights-{name}-{viewport['width']}.png",
            full_page=True,
        )


def _page_link_from_the_worker(site) -> str:
    (job,) = ProcrastinateJob.objects.filter(
        task_name="supporters.tasks.send_supporter_link"
    ).values_list("args", flat=True)
    assert send_supporter_link(**job) == "sent"
    link = re.search(r"http://\S+/your-data/page/\?t=\S+", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    parts = urlsplit(link.group(0))
    return f"{site}{parts.path}?{parts.query}"


@pytest.mark.parametrize("prefix", ["", "/es"], ids=["en", "es"])
def test_a_supporter_sees_corrects_and_deletes_their_data(site, page, prefix):
    SCREENSHOTS.mkdir(exist_ok=True)
    language = prefix.strip("/") or "en"
    page.set_viewport_size(PHONE)
    page.goto(petition_url(site, prefix))
    fill_sign_form(page, full_name="Rosa Mamani", email="rosa@example.org")
    page.locator("#id_name_withheld").check()
    submit_sign_form(page)
    page.wait_for_url("**/check-your-inbox/")
    page.goto(link_in_email(confirmation_email("rosa@example.org"), "confirm"))
    page.locator("main form [type=submit]").first.click()
    signature = Signature.objects.get()
    assert signature.name_withheld is True

    page.goto(f"{site}{prefix}/your-data/")
    _screenshots(page, f"request-{language}")
    page.locator("#id_email").fill("rosa@example.org")
    page.locator("main form [type=submit]").click()
    page.wait_for_url(f"**{prefix}/your-data/sent/")

    page.goto(_page_link_from_the_worker(site))
    body = page.locator("main")
    assert "Rosa Mamani" in body.inner_text()
    _screenshots(page, f"page-{language}")

    page.locator("#id_full_name").fill("Rosa Mamani Quispe")
    page.locator("form[action$='/page/name/'] [type=submit]").click()
    page.wait_for_load_state()
    assert "Rosa Mamani Quispe" in page.locator("main").inner_text()
    signature.refresh_from_db()
    assert signature.full_name == "Rosa Mamani Quispe"

    page.locator("form[action$='/page/delete/'] [type=submit]").click()
    page.wait_for_url("**/your-data/page/delete/?t=*")
    _screenshots(page, f"delete-{language}")
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert signature.full_name == "" and signature.email_normalised is None
