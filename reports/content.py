"""Load reports and their key concerns from content/reports/*.toml."""

from pathlib import Path

from peru_campaign.content import (
    LoadReport,
    fill_blank_translations,
    fill_blank_translations_of_rows,
    read_documents,
    translated_values,
)

from .models import Report, ReportConcern

REPORT_TEXT = ("title", "publisher", "summary")


def _concerns(document: dict) -> list[dict]:
    """Each concern as a table like any other text: {"text": ..., "text_es": ...}."""
    english = document.get("concerns", [])
    spanish = document.get("concerns_es", [])
    return [
        {"text": text, **({"text_es": spanish[i]} if i < len(spanish) else {})}
        for i, text in enumerate(english)
    ]


def load(content_dir: Path, report: LoadReport) -> None:
    for document in read_documents("reports", content_dir):
        label = f"report {document['slug']}"
        values = translated_values(document, *REPORT_TEXT)
        obj, created = Report.objects.get_or_create(
            slug=document["slug"],
            defaults={
                **values,
                "year": document["year"],
                "full_text_url": document["full_text_url"],
                "is_published": document.get("published", False),
            },
        )
        report.add(label, created)
        concerns = _concerns(document)
        if created:
            ReportConcern.objects.bulk_create(
                ReportConcern(report=obj, order=i, **translated_values(concern, "text"))
                for i, concern in enumerate(concerns)
            )
            continue
        filled = fill_blank_translations(obj, values)
        filled |= fill_blank_translations_of_rows(
            obj.concerns.all(),
            concerns,
            row_key="text_en",
            item_key="text",
            text_keys=("text",),
        )
        if filled:
            report.translated.append(label)
