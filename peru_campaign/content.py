"""Campaign content kept as TOML files under content/ in the repository.

Each app that owns content has a `content.py` with `load(documents)`, which
creates what is missing and leaves alone whatever already exists, so staff
edits made in the admin are never overwritten and a second run changes nothing.
The one exception: a translation that is still empty in the database is filled
in from the file, so a site that predates a language gets its text on the next
load.

Text keys hold English; the same key with a language suffix holds that
language (`title` and `title_es`).
"""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

CONTENT_DIR = settings.BASE_DIR / "content"


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    translated: list[str] = field(default_factory=list)

    def add(self, label: str, created: bool) -> None:
        (self.created if created else self.kept).append(label)


def read_documents(kind: str, content_dir: Path = CONTENT_DIR) -> list[dict]:
    """Every TOML document in content/<kind>/, in file-name order."""
    return [
        tomllib.loads(path.read_text(encoding="utf-8"))
        for path in sorted((content_dir / kind).glob("*.toml"))
    ]


def translated_values(source: dict, *keys: str) -> dict[str, str]:
    """Model field values (`title_en`, `title_es`...) for the text keys of a
    TOML table; a language the file doesn't have is left out."""
    values = {}
    for key in keys:
        for code, _name in settings.LANGUAGES:
            suffix = "" if code == settings.LANGUAGE_CODE else f"_{code}"
            text = source.get(key + suffix)
            if text is not None:
                values[f"{key}_{code}"] = text.strip()
    return values


def fill_blank_translations(obj, values: dict[str, str]) -> bool:
    """Write each value whose field is still empty; True if any was written."""
    blank = [name for name, text in values.items() if text and not getattr(obj, name)]
    for name in blank:
        setattr(obj, name, values[name])
    if blank:
        obj.save(update_fields=blank)
    return bool(blank)


def fill_blank_translations_of_rows(
    rows, items: list[dict], *, row_key: str, item_key: str, text_keys: tuple
) -> bool:
    """The same for child rows (timeline events, sources, concerns), each matched
    to the file's item whose `item_key` equals the row's `row_key`; rows staff
    changed so that they match nothing are left alone."""
    by_key = {getattr(row, row_key): row for row in rows}
    filled = False
    for item in items:
        row = by_key.get(item[item_key])
        if row is not None:
            filled |= fill_blank_translations(row, translated_values(item, *text_keys))
    return filled
