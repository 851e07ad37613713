"""Shared fixtures: a demo store built once per test session from a fixed seed, and an empty one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from analytics.demo import DEFAULT_SEED, build_demo_store
from analytics.store.db import Store

REPO_ROOT = Path(__file__).resolve().parent.parent

# The [auth] secrets of an app with sign-in switched on. The provider address is never reached: these tests
# stand in for a signed-in person with AppTest's user, and tests/test_sign_in.py runs a real OIDC provider.
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-only-cookie-secret-of-some-length",
    "client_id": "school-insight-tests",
    "client_secret": "unused",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


# tryfirst: xdist's worker reads the group in its own hook of the same name, which must come after this one.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test runs on the same xdist worker, one after another: two apps and two Chromiums at once
    on a small machine make page loads slow enough to time out."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session", autouse=True)
def pseudonym_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test (and every command it runs) keeps pseudonym keys in a temporary key file, never in the
    real ``~/.config``; a test that needs a key file of its own sets ``SCHOOL_INSIGHT_KEY_FILE`` itself."""
    path = tmp_path_factory.mktemp("keys") / "pseudonym.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCHOOL_INSIGHT_KEY_FILE", str(path))
        yield path


@pytest.fixture(scope="session")
def demo_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store file; tests must not write to it (use ``writable_demo_path`` for that)."""
    return build_demo_store(tmp_path_factory.mktemp("demo") / "demo.duckdb", seed=DEFAULT_SEED)


@pytest.fixture
def writable_demo_path(demo_store_path: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo.duckdb"
    copy.write_bytes(demo_store_path.read_bytes())
    return copy


@pytest.fixture
def demo_store(demo_store_path: Path):
    with Store(demo_store_path, read_only=True) as store:
        yield store


@pytest.fixture
def empty_store_path(tmp_path: Path) -> Path:
    path = tmp_path / "empty.duckdb"
    Store(path).close()
    return path


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Streamlit's caches outlive an AppTest run in the test process; an app test that reads a store must not
    see the figures a previous test cached for another store of the same path."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
