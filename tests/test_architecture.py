"""Rules of the house that keep the product usable from scripts and tidy to work on."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ANALYTICS_MODULES = sorted(
    ".".join(p.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in (REPO_ROOT / "analytics").rglob("*.py")
    if p.stem != "__main__"
)


def test_analytics_never_loads_streamlit() -> None:
    code = (
        "import sys, importlib\n"
        f"for name in {ANALYTICS_MODULES!r}: importlib.import_module(name)\n"
        "import analytics.__main__\n"
        "print('streamlit' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_only_the_store_module_connects_to_duckdb() -> None:
    offenders = []
    for path in [*REPO_ROOT.glob("analytics/**/*.py"), *REPO_ROOT.glob("app_pages/*.py"), REPO_ROOT / "app.py"]:
        if path.name == "db.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "connect" and getattr(node.value, "id", "") == "duckdb":
                offenders.append(path.name)
    assert offenders == []


def test_pages_hold_no_sql() -> None:
    keywords = ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM")
    for path in [*REPO_ROOT.glob("app_pages/*.py"), REPO_ROOT / "app.py"]:
        text = path.read_text(encoding="utf-8")
        assert not any(k in text for k in keywords), f"{path.name} contains SQL; move it into analytics/"


def test_ruff_lint_and_format_are_clean() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_readme_shows_the_two_commands_and_ci_runs_the_test_command() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    run = "pip install -r requirements.txt && streamlit run app.py"
    test = "pip install -r requirements-dev.txt && python -m pytest"
    assert run in readme
    assert test in readme
    assert test in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_runtime_requirements_are_pinned() -> None:
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert "==" in line, f"{line} is not pinned"
