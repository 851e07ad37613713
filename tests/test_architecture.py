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


# -- the layout (see README "How the code is laid out") -------------------------------------------

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
PRODUCT_FILES = sorted([*REPO_ROOT.glob("analytics/**/*.py"), *REPO_ROOT.glob("app_pages/*.py"), REPO_ROOT / "app.py"])


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every ``from module import name`` and ``import module`` in a file."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return found


def test_analytics_never_imports_the_pages() -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in REPO_ROOT.glob("analytics/**/*.py")
        for module, _ in _imports(path)
        if module.split(".")[0] in ("app_pages", "streamlit")
    ]
    assert offenders == []


def test_no_private_name_is_used_across_modules() -> None:
    """What two modules share is a public function of one of them (or of a third), never a private one."""
    offenders = []
    for path in PRODUCT_FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        product_aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analytics"):
                for alias in node.names:
                    if alias.name.startswith("_") and alias.name != "__version__":
                        offenders.append(f"{path.relative_to(REPO_ROOT)}: from {node.module} import {alias.name}")
                    product_aliases.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in product_aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert offenders == []


def test_no_module_or_function_is_too_long_to_read() -> None:
    too_long = []
    for path in PRODUCT_FILES:
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{path.relative_to(REPO_ROOT)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert too_long == []


def test_complexity_is_limited_by_the_lint_configuration() -> None:
    """ruff's C90 check (run by the lint test) keeps every function's McCabe complexity at most 12."""
    config = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"C90"' in config
    assert "max-complexity = 12" in config


def test_mypy_is_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_there_is_one_measure_catalogue() -> None:
    """The demo, the importers and the criteria read measures from analytics.catalogue; nobody else
    keeps a table of them."""
    from analytics import catalogue, demo
    from analytics.imports import dfe

    assert dfe.MEASURE_BY_CODE is catalogue.MEASURE_BY_CODE
    for spec in demo.MEASURES:
        entry = catalogue.MEASURE_BY_CODE[spec.code]
        assert (spec.label, spec.unit, spec.higher_is_better) == (entry.label, entry.unit, entry.higher_is_better)
    labels = [entry.label for entry in catalogue.MEASURES]
    defining = [
        f"{path.relative_to(REPO_ROOT)}: {label}"
        for path in REPO_ROOT.glob("analytics/**/*.py")
        for label in labels
        if label in path.read_text(encoding="utf-8")
    ]
    assert defining == [], "measures are described in analytics/catalogue.csv only"


def test_a_command_loads_only_what_it_needs(empty_store_path: Path) -> None:
    """``info`` answers without pandas, scipy or the importers: each command imports its code when it runs."""
    code = (
        "import sys\n"
        "from analytics.__main__ import main\n"
        f"assert main(['info', '--db', {str(empty_store_path)!r}]) == 0\n"
        "heavy = ('pandas', 'scipy', 'analytics.imports.survey', 'analytics.research')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print('loaded:', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("loaded: []"), done.stdout


def test_every_module_path_in_the_docs_exists() -> None:
    import re

    missing = []
    for doc in [REPO_ROOT / "README.md", *REPO_ROOT.glob("docs/*.md")]:
        for path in re.findall(r"`((?:analytics|app_pages|tests|benchmarks)/[\w./-]+)`", doc.read_text("utf-8")):
            if not (REPO_ROOT / path.rstrip("/")).exists():
                missing.append(f"{doc.name}: {path}")
    assert missing == []


def test_the_command_line_offers_the_choices_the_code_knows() -> None:
    """The CLI spells out ``--kind`` choices so that building its parser imports nothing heavy; they
    must stay the importer's and the research package's own."""
    from analytics import research
    from analytics.cli import imports as import_commands
    from analytics.cli import research as research_commands
    from analytics.imports import dfe

    assert import_commands.IMPORT_KINDS == dfe.KINDS
    assert research_commands.RESEARCH_GROUP_KINDS == research.GROUP_KINDS
