"""The layout the README promises: which way imports point, what ships, how big modules are."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("newsletter", "subscribers", "digests", "pages", "staff")
# Who may import whom (beyond itself and `newsletter`, the project every app may use).
ALLOWED = {
    "subscribers": set(),
    "digests": {"subscribers"},
    "pages": {"digests", "subscribers"},
    "staff": {"digests", "subscribers"},
    "newsletter": {"digests", "subscribers", "pages", "staff"},
}
MAX_LINES = 400
MAX_DIGESTS_MODULES = 25


def _modules(package: str) -> list[Path]:
    return [
        path for path in sorted((REPO / package).rglob("*.py")) if "migrations" not in path.parts
    ]


def _imported_packages(path: Path) -> set[str]:
    """Top-level packages a module imports, TYPE_CHECKING blocks included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PRODUCT)
def test_dependencies_point_one_way(package: str) -> None:
    others = {*PRODUCT, "devtools", "tests", "bench"} - {package, "newsletter"}
    wrong = {
        f"{path.relative_to(REPO)} imports {name}"
        for path in _modules(package)
        for name in _imported_packages(path) & others
        if name not in ALLOWED[package]
    }
    assert not wrong, sorted(wrong)


def test_a_product_module_is_never_over_the_size_limit() -> None:
    long = {
        f"{path.relative_to(REPO)}: {lines} lines"
        for package in PRODUCT
        for path in _modules(package)
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, sorted(long)


def test_the_pipeline_package_stays_readable() -> None:
    top_level = [path.name for path in (REPO / "digests").glob("*.py")]
    assert len(top_level) <= MAX_DIGESTS_MODULES, sorted(top_level)


def test_stand_ins_are_neither_installed_nor_in_the_image() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    included = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {pattern.rstrip("*") for pattern in included} == set(PRODUCT)
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "COPY devtools" not in dockerfile
    assert "devtools" in (REPO / ".dockerignore").read_text().split()
    stub_words = ("stub", "replay", "fixture", "recorded")
    named_so = [
        str(path.relative_to(REPO))
        for package in PRODUCT
        for path in (REPO / package).rglob("*")
        if any(word in path.name.lower() for word in stub_words)
    ]
    assert not named_so, named_so
