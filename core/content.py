"""Campaign content kept as TOML files under content/ in the repository.

Each app that owns content has a `content.py` with `load(documents)`, which
creates what is missing and leaves alone whatever already exists, so staff
edits made in the admin are never overwritten and a second run changes nothing.
The exceptions: a translation that is still empty in the database is filled
in from the file, so a site that predates a language gets its text on the next
load; and a document's `[[rewordings]]` (`old` and `new`) replace a phrase that
went stale wherever the text still holds it word for word, so a site loaded
before the change gets it while text staff rewrote keeps their words.

Text keys hold English; the same key with a language suffix holds that
language (`title` and `title_es`).
"""

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from modeltranslation.utils import build_localized_fieldname

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
                values[build_localized_fieldname(key, code)] = text.strip()
    return values


def fill_blank_translations(obj, values: dict[str, str]) -> bool:
    """Write each value whose field is still empty; True if any was written."""
    blank = [name for name, text in values.items() if text and not getattr(obj, name)]
    for name in blank:
        setattr(obj, name, values[name])
    if blank:
        obj.save(update_fields=blank)
    return bool(blank)


def apply_rewordings(obj, rewordings: list[dict], names: list[str]) -> bool:
    """Replace each stale `old` phrase still present in the fields `names`."""
    changed = []
    for name in names:
        text = getattr(obj, name) or ""
        for rewording in rewordings:
            if rewording["old"] in text:
                text = text.replace(rewording["old"], rewording["new"])
        if text != (getattr(obj, name) or ""):
            setattr(obj, name, text)
            changed.append(name)
    if changed:
        obj.save(update_fields=changed)
    return bool(changed)


def _localized_names(*keys: str) -> list[str]:
    return [
        build_localized_fieldname(key, code)
        for key in keys
        for code, _name in settings.LANGUAGES
    ]


@dataclass
class Children:
    """Rows that belong to a loaded object (timeline events, sources, concerns):
    the file's `items` under the reverse relation `related_name`."""

    related_name: str
    items: list[dict]
    text_keys: tuple[str, ...]
    # Pairs an existing row with its item: (row field, item key). Rows staff
    # changed so that they match nothing are left alone.
    match: tuple[str, str]
    # The row's other fields, from the item and its position.
    fields: Callable[[dict, int], dict] = lambda item, position: {}


def load_translated(
    model,
    *,
    lookup: dict,
    document: dict,
    text_keys: tuple[str, ...],
    fields: dict | None = None,
    children: tuple[Children, ...] = (),
    report: LoadReport,
    label: str,
):
    """Create the object and its children when missing; otherwise fill only
    the translations still empty in it and its children."""
    values = translated_values(document, *text_keys)
    obj, created = model.objects.get_or_create(
        **lookup, defaults={**values, **(fields or {})}
    )
    report.add(label, created)
    if created:
        for child in children:
            relation = getattr(obj, child.related_name)
            relation.model.objects.bulk_create(
                relation.model(
                    **{relation.field.name: obj},
                    **child.fields(item, position),
                    **translated_values(item, *child.text_keys),
                )
                for position, item in enumerate(child.items)
            )
        return obj
    filled = fill_blank_translations(obj, values)
    rewordings = document.get("rewordings", [])
    if rewordings:
        filled |= apply_rewordings(obj, rewordings, _localized_names(*text_keys))
    for child in children:
        row_key, item_key = child.match
        rows = {
            getattr(row, row_key): row for row in getattr(obj, child.related_name).all()
        }
        if rewordings:
            for row in rows.values():
                filled |= apply_rewordings(
                    row, rewordings, _localized_names(*child.text_keys)
                )
        for item in child.items:
            if item[item_key] in rows:
                row_values = translated_values(item, *child.text_keys)
                filled |= fill_blank_translations(rows[item[item_key]], row_values)
    if filled:
        report.translated.append(label)
    return obj
