"""Every environment variable the project reads is documented.

docs/configuration.md is the one list of them, with defaults and meanings;
a variable added to the settings, .env.example, deploy/render.py or a script
without a line there fails here.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = (ROOT / "docs" / "configuration.md").read_text()

READS = {
    "peru_campaign/settings.py": [
        r"env(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']",
        r"_required_in_production\(\s*\"([A-Z][A-Z0-9_]+)\"",
    ],
    ".env.example": [r"^([A-Z][A-Z0-9_]+)="],
    "deploy/render.py": [r"env\.get\(\"([A-Z][A-Z0-9_]+)\""],
    "scripts/*.sh": [r"\$\{([A-Z][A-Z0-9_]+):-"],
    "scripts/*.py": [r"os\.environ(?:\.get\(|\[)\"([A-Z][A-Z0-9_]+)\""],
}


def names_read() -> set[str]:
    names = set()
    for pattern, expressions in READS.items():
        for path in ROOT.glob(pattern):
            text = path.read_text()
            for expression in expressions:
                names.update(re.findall(expression, text, re.MULTILINE))
    return names


def test_every_environment_variable_is_in_the_configuration_docs():
    names = names_read()

    assert {"DJANGO_SECRET_KEY", "SERVE_DIR", "BENCH_PORT", "FAULTS_PORT"} <= names
    undocumented = sorted(name for name in names if f"`{name}`" not in DOCUMENTED)
    assert not undocumented, f"add these to docs/configuration.md: {undocumented}"
