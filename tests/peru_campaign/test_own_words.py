"""The site states the source document's facts in its own words: no run of
seven words from the source appears in the campaign content or templates,
apart from proper names and the campaign's required headline."""

import re

import pytest
from django.conf import settings

SOURCE = settings.BASE_DIR.parent / "shared" / "seeds" / "000_f621c86ae9e0770e.txt"
RUN = 7
PROPER_NAMES = [
    "stand with the victims of repression in peru",
    "un special rapporteur on the rights of indigenous peoples",
]


def _words(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    return re.findall(r"[a-z0-9']+", text)


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


@pytest.mark.skipif(
    not SOURCE.exists(), reason="the source document is not beside the checkout"
)
def test_no_sentence_is_copied_from_the_source_document():
    source_runs = _runs(_words(SOURCE.read_text(encoding="utf-8")))
    files = [
        *sorted((settings.BASE_DIR / "content").rglob("*.toml")),
        *sorted((settings.BASE_DIR / "templates").rglob("*.html")),
        *sorted((settings.BASE_DIR / "templates").rglob("*.txt")),
    ]
    copied = {
        path.name: sorted(
            " ".join(run) for run in _runs(_words(path.read_text())) & source_runs
        )
        for path in files
    }
    assert {name: runs for name, runs in copied.items() if runs} == {}
