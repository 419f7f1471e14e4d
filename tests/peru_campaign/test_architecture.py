"""The rooms import one way (docs/architecture.md): import-linter's layers
contract in pyproject.toml, run over the real source tree."""

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def _contract_packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["root_packages"]


def test_the_apps_keep_the_documented_import_order():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_every_app_is_under_the_contract():
    from django.conf import settings

    ours = {
        name.split(".")[0]
        for name in settings.INSTALLED_APPS
        if (ROOT / name.split(".")[0]).is_dir()
    }
    assert ours <= set(_contract_packages())


def test_the_architecture_document_names_every_layer():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for package in _contract_packages():
        assert f"`{package}`" in text, package


def test_an_import_against_the_order_breaks_the_contract(tmp_path):
    # The same contract over a copy of the tree in which petitions imports
    # newsletters, as it once did: the linter must refuse it.
    for package in _contract_packages():
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "migrations"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "petitions" / "__init__.py").open("a") as module:
        module.write("\nimport newsletters.services  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1
    assert "petitions is not allowed to import newsletters" in result.stdout
    assert "petitions -> newsletters.services" in result.stdout


# Imports inside a function, each with its reason. Anything else found is an
# import placed there to dodge a circle, a sign that the rooms are wrong.
FUNCTION_IMPORTS_ALLOWED = {
    # AppConfig.ready() is where Django wants signal receivers connected.
    ("newsletters/apps.py", "anymail.signals"),
    ("newsletters/apps.py", "petitions"),
    ("newsletters/apps.py", "newsletters"),
    ("newsletters/apps.py", "newsletters.webhooks"),
    # ReportLab is large and only the PDF download needs it.
    ("organising/exports.py", "organising.delivery_pack"),
}


def _function_imports(path: Path, package: str) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text())
    found = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package if node.level else ""
                names = [
                    f"{base}{'.' if base and node.module else ''}{node.module or ''}"
                ]
            else:
                continue
            relative = str(path.relative_to(ROOT))
            found |= {(relative, name) for name in names}
    return found


def test_no_app_imports_inside_a_function_to_dodge_a_circle():
    found = set()
    for package in _contract_packages():
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found |= _function_imports(path, package)
    assert found - FUNCTION_IMPORTS_ALLOWED == set()


def test_the_scan_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    module = tmp_path / "petitions" / "sample.py"
    module.parent.mkdir()
    module.write_text("def sign():\n    from .tasks import send\n    import json\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _function_imports(module, "petitions") == {
        ("petitions/sample.py", "petitions.tasks"),
        ("petitions/sample.py", "json"),
    }
