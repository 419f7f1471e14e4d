"""Campaign content kept as TOML files under content/ in the repository.

Each app that owns content has a `content.py` with `load(documents)`, which
creates what is missing and leaves alone whatever already exists, so staff
edits made in the admin are never overwritten and a second run changes nothing.
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

    def add(self, label: str, created: bool) -> None:
        (self.created if created else self.kept).append(label)


def read_documents(kind: str, content_dir: Path = CONTENT_DIR) -> list[dict]:
    """Every TOML document in content/<kind>/, in file-name order."""
    return [
        tomllib.loads(path.read_text(encoding="utf-8"))
        for path in sorted((content_dir / kind).glob("*.toml"))
    ]
