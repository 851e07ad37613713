"""What every page pays before it draws anything: work that grows with the number of schools is done once per
data version and mode, not on every run, and a page without an assessment does not load the trends' statistics.

On a national store these are seconds on every page (docs/scale.md); the tests count the work, never time it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from analytics.privacy import names as privacy_names
from analytics.privacy import pseudonym_secret
from analytics.privacy.redaction import build_redactor, form_index
from analytics.store import db
from analytics.store.db import Store
from analytics.store.schools import list_schools

pytestmark = pytest.mark.usefixtures("fresh_caches")

REPO_ROOT = Path(__file__).resolve().parent.parent


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Patch ``module.name`` to count its calls; the list's length is the count."""
    calls: list[int] = []
    original: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("page", ["app_pages/data_store.py", "app_pages/data.py"])
def test_the_redactor_of_every_school_is_built_once_for_every_run_of_a_session(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch, page: str
) -> None:
    """The sidebar and the page redact with the same names: one redactor, kept for the page's next run."""
    with Store(writable_demo_path) as store:
        schools = list_schools(store)
        # The store's first use records its id (a new data version); after a restart that is long done.
        pseudonym_secret(store)
    assert not schools.data_sharing_signed.all(), "the demo needs a school without an agreement for this test"
    builds = counting(monkeypatch, privacy_names, "build_redactor")
    monkeypatch.setenv(db.DB_ENV_VAR, str(writable_demo_path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    app.switch_page(page)
    app.run()
    app.run()
    assert not app.exception
    assert len(builds) == 1


def test_a_redactor_for_another_mode_finds_the_same_forms_as_one_built_alone(demo_store: Store) -> None:
    """The forms of every name are worked out once and shared between modes: presenter mode, where every school
    is hidden, redacts exactly what a redactor built from nothing for it does."""
    schools = list_schools(demo_store)
    real = {int(u): str(n) for u, n in zip(schools.urn, schools.name, strict=True)}
    normal = {u for u, signed in zip(real, schools.data_sharing_signed, strict=True) if not signed}
    build_redactor(real, {u: f"School {u}" if u in normal else n for u, n in real.items()}, frozenset(normal))
    everyone = frozenset(real)
    pseudonyms = {u: f"School {u}" for u in real}
    shared = build_redactor(dict(reversed(real.items())), pseudonyms, everyone)
    assert form_index(real) is form_index(dict(reversed(real.items())))
    pairs = zip(real.items(), reversed(real.values()), strict=True)
    texts = [f"{name} met {other} about URN {urn}" for (urn, name), other in pairs]
    alone = json.loads(
        subprocess.run(
            [sys.executable, "-c", ALONE, json.dumps({"real": list(real.items()), "texts": texts})],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
        ).stdout
    )
    assert [shared(text) for text in texts] == alone
    assert any(text != redacted for text, redacted in zip(texts, alone, strict=True))


# A fresh process, so nothing of the names above is already worked out.
ALONE = """
import json, sys
from analytics.privacy.redaction import build_redactor
given = json.loads(sys.argv[1])
real = {int(u): n for u, n in given["real"]}
redact = build_redactor(real, {u: f"School {u}" for u in real}, frozenset(real))
print(json.dumps([redact(text) for text in given["texts"]]))
"""

# Opens a page the way benchmarks/pages.py does and says which heavy modules the run loaded.
LOADED = """
import json, sys
from streamlit.testing.v1 import AppTest
app = AppTest.from_file("app.py", default_timeout=120)
app.switch_page(sys.argv[1])
app.run()
print(json.dumps({"errors": [str(e.message) for e in app.exception], "scipy.stats": "scipy.stats" in sys.modules}))
"""


def test_a_page_without_an_assessment_does_not_load_the_trends_statistics(writable_demo_path: Path) -> None:
    """scipy.stats, which only the trends use, takes a second or two to import: the Data store page, which shows
    no assessment, opens without it; the Overview, which does, loads it."""
    loaded: dict[str, dict[str, Any]] = {}
    for page in ("app_pages/data_store.py", "app_pages/overview.py"):
        done = subprocess.run(
            [sys.executable, "-c", LOADED, page],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
            env={**os.environ, db.DB_ENV_VAR: str(writable_demo_path)},
        )
        loaded[page] = json.loads(done.stdout.strip().splitlines()[-1])
        assert loaded[page]["errors"] == []
    assert loaded["app_pages/data_store.py"]["scipy.stats"] is False
    assert loaded["app_pages/overview.py"]["scipy.stats"] is True
