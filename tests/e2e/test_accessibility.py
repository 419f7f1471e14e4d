"""axe-core (bundled by axe-playwright-python, run inside Chromium) checks each
public page, and each step of signing, against WCAG 2.2 A/AA and axe's best
practices, as the accessibility statement promises. A few WCAG 2.2 criteria
that axe cannot judge (target size with spacing, focus not obscured) are
measured in the browser here."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation
from playwright.sync_api import expect

from tests.e2e.steps import (
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
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PAGES = [
    "/",
    "/what-happened/",
    "/petitions/justice-for-peru/",
    "/petitions/justice-for-peru/check-your-inbox/",
    "/news/",
    "/news/2024/07/icc-asked-to-examine-protest-killings/",
    "/news/feed/",
    "/reports/",
    "/reports/amnesty-international-peru-2023/",
    "/privacy/",
    "/accessibility/",
    "/no-such-page/",
]


def _violations(page):
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": RULES}})
    assert results.response["passes"], "axe did not run"
    return [
        (rule["id"], rule["help"], [node["target"] for node in rule["nodes"]])
        for rule in results.response["violations"]
    ]


# English pages have no prefix; Spanish ones live under /es/.
LANGUAGES = {"en": "", "es": "/es"}


@pytest.mark.parametrize("prefix", LANGUAGES.values(), ids=LANGUAGES.keys())
@pytest.mark.parametrize("path", [p for p in PAGES if not p.endswith("feed/")])
def test_public_pages_have_no_accessibility_violations(site, page, path, prefix):
    page.goto(site + prefix + path)
    expect(page.locator("html")).to_have_attribute("lang", prefix.strip("/") or "en")
    assert _violations(page) == []


# WCAG 2.5.8 Target Size (Minimum): a target is at least 24 by 24 CSS pixels,
# or a 24-pixel circle centred on it touches no other target nor the circle
# of another small one. Inline links in running text are exempt, so only
# controls and the header and footer navigation are measured.
SMALL_TARGETS_JS = """() => {
  const selector = "main button, main input, main select, main textarea, "
    + "header a, footer nav a";
  const describe = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()} `
    + `"${(el.innerText || el.value || el.name || "").trim().slice(0, 30)}"`;
  const targets = [...document.querySelectorAll(selector)]
    .filter((el) => el.type !== "hidden" && !el.closest("[aria-hidden=true]"))
    .filter((el) => el.checkVisibility({visibilityProperty: true}))
    .map((el) => ({el, box: el.getBoundingClientRect()}));
  const isSmall = ({box}) => box.width < 24 || box.height < 24;
  const centre = ({box}) => [box.x + box.width / 2, box.y + box.height / 2];
  const circleTouchesBox = ([x, y], box) => Math.hypot(
    Math.max(box.left - x, 0, x - box.right),
    Math.max(box.top - y, 0, y - box.bottom),
  ) < 12;
  const problems = [];
  for (const target of targets.filter(isSmall)) {
    const [x, y] = centre(target);
    const crowding = targets.find((other) => other !== target && (
      circleTouchesBox([x, y], other.box)
      || (isSmall(other) && Math.hypot(x - centre(other)[0], y - centre(other)[1]) < 24)
    ));
    if (crowding) {
      const {width, height} = target.box;
      problems.push(`${describe(target.el)} (${width.toFixed(1)}x${height.toFixed(1)}) `
        + `is too close to ${describe(crowding.el)}`);
    }
  }
  return problems;
}"""

# What a sighted keyboard user needs of the focused element: it is on screen,
# not covered by anything, and drawn with a focus indicator.
FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getClientRects()[0] || el.getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  const style = getComputedStyle(el);
  const ring = style.outlineStyle === "none" ? 0
    : parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth);
  return {
    element: el.id ? `#${el.id}` : `${el.tagName.toLowerCase()} "${el.innerText.trim()}"`,
    // The element and its outline.
    inViewport: box.top - ring >= 0 && box.left - ring >= 0
      && box.bottom + ring <= innerHeight && box.right + ring <= innerWidth,
    uncovered: hit === el || el.contains(hit),
    indicated: (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
      || style.boxShadow !== "none",
  };
}"""


def _small_targets(page):
    return page.evaluate(SMALL_TARGETS_JS)


@pytest.mark.parametrize("language", LANGUAGES.keys())
def test_every_step_of_signing_has_no_accessibility_violations(site, page, language):
    prefix = LANGUAGES[language]

    def text(english):
        with translation.override(language):
            return translation.gettext(english)

    page.set_viewport_size(PHONE)
    page.goto(petition_url(site, prefix))
    submit_sign_form(page)
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary h3")).to_have_text(text("There is a problem"))
    assert (_violations(page), _small_targets(page)) == ([], []), "form with errors"

    fill_sign_form(page)
    submit_sign_form(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(text("Check your inbox"))
    assert (_violations(page), _small_targets(page)) == ([], []), "check your inbox"

    message = confirmation_email()
    page.goto(link_in_email(message, "confirm"))
    assert f"{prefix}/petitions/confirm/" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text("Confirm your signature")
    )
    assert (_violations(page), _small_targets(page)) == ([], []), "confirm"

    page.get_by_role("button", name=text("Confirm my signature")).click()
    page.wait_for_url(f"**{prefix}/petitions/justice-for-peru/thanks/**")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text("Thank you for standing with the victims")
    )
    assert (_violations(page), _small_targets(page)) == ([], []), "thank you"

    page.goto(link_in_email(message, "withdraw"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text("Withdraw your signature")
    )
    assert (_violations(page), _small_targets(page)) == ([], []), "withdraw"

    page.get_by_role("button", name=text("Withdraw my signature")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        text("Your signature has been withdrawn")
    )
    assert (_violations(page), _small_targets(page)) == ([], []), "withdrawn"


def test_sign_form_fields_are_labelled_and_say_what_to_autofill(site, page):
    page.goto(petition_url(site))
    fields = page.evaluate(
        """() => [...document.querySelectorAll(
              ".sign-form input, .sign-form select, .sign-form textarea")]
            .filter((el) => el.type !== "hidden" && !el.closest("[aria-hidden=true]"))
            .map((el) => ({
              id: el.id,
              labels: [...el.labels]
                .filter((label) => label.checkVisibility())
                .map((label) => label.innerText.trim()),
              autocomplete: el.getAttribute("autocomplete"),
            }))"""
    )
    assert [field["id"] for field in fields] == [
        "id_full_name",
        "id_email",
        "id_country",
        "id_postcode",
        "id_consent",
        "id_name_withheld",
        "id_wants_updates",
        "id_show_publicly",
    ]
    unlabelled = [field["id"] for field in fields if not any(field["labels"])]
    assert unlabelled == []
    autocomplete = {field["id"]: field["autocomplete"] for field in fields}
    assert autocomplete["id_full_name"] == "name"
    assert autocomplete["id_email"] == "email"
    assert autocomplete["id_country"] in {"country", "country-name"}
    assert autocomplete["id_postcode"] == "postal-code"


@pytest.mark.parametrize("prefix", LANGUAGES.values(), ids=LANGUAGES.keys())
@pytest.mark.parametrize("width", [PHONE["width"], 1280])
def test_targets_are_big_enough_or_far_enough_apart(site, page, width, prefix):
    page.set_viewport_size({**PHONE, "width": width})
    for path in ["/", "/petitions/justice-for-peru/", "/news/"]:
        page.goto(site + prefix + path)
        assert _small_targets(page) == [], path


@pytest.mark.parametrize("language", LANGUAGES.keys())
def test_focus_is_never_hidden_when_tabbing_through_the_petition_page(
    site, page, language
):
    with translation.override(language):
        skip_link = translation.gettext("Skip to main content")
        sign_button = translation.gettext("Sign the petition")
    page.set_viewport_size(PHONE)
    # Bootstrap scrolls smoothly unless people ask for less motion; scrolling
    # at once lets each position be read as soon as the focus moves.
    page.emulate_media(reduced_motion="reduce")
    page.goto(petition_url(site, LANGUAGES[language]))
    reached = []
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is None:  # past the last element, into the browser
            break
        reached.append(focused)
    names = [focused["element"] for focused in reached]
    assert names[0] == f'a "{skip_link}"'
    for field in ["#id_full_name", "#id_country", "#id_consent", "#id_show_publicly"]:
        assert field in names
    assert f'button "{sign_button}"' in names
    assert "#id_website" not in names, "the field for bots is reachable"
    hidden = [
        focused
        for focused in reached
        if not (focused["inViewport"] and focused["uncovered"] and focused["indicated"])
    ]
    assert hidden == [], reached
