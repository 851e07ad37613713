"""Shared fixtures: a demo store built once per test session from a fixed seed, and an empty one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.demo import DEFAULT_SEED, build_demo_store
from analytics.store.db import Store

REPO_ROOT = Path(__file__).resolve().parent.parent


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
