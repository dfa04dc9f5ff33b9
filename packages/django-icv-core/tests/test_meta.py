"""The meta-package is metadata only: the four parts, pinned to its own version.

Reads the pyproject files of the monorepo (no Django needed: nox runs these
with ``-p no:django``). When the built meta wheel is installed (``nox -s
wheels``), its installed metadata is checked too.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

META_DIR = Path(__file__).resolve().parent.parent
PACKAGES = META_DIR.parent
PART_DIRS = (
    "icv-core-models",
    "icv-core-audit",
    "icv-core-templatetags",
    "icv-core-testing",
)
PART_NAMES = {
    "django-icv-core-models",
    "django-icv-core-audit",
    "django-icv-core-templatetags",
    "django-icv-core-testing",
}


def _project(folder: Path) -> dict[str, Any]:
    with (folder / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


META = _project(META_DIR)
PARTS = {name: _project(PACKAGES / name) for name in PART_DIRS}
VERSION = META["project"]["version"]


def _requirements(strings: list[str]) -> list[tuple[str, set[str], str, str]]:
    result = []
    for text in strings:
        req = Requirement(text)
        result.append(
            (req.name, set(req.extras), str(req.specifier), str(req.marker or ""))
        )
    return result


def test_the_folders_hold_the_four_parts() -> None:
    folders = {p.name for p in PACKAGES.iterdir() if (p / "pyproject.toml").is_file()}
    assert folders == {*PART_DIRS, "django-icv-core"}
    assert {p["project"]["name"] for p in PARTS.values()} == PART_NAMES
    assert META["project"]["name"] == "django-icv-core"


def test_every_part_has_the_meta_packages_version() -> None:
    assert {p["project"]["version"] for p in PARTS.values()} == {VERSION}


def test_depends_on_exactly_the_four_parts_pinned_to_its_version() -> None:
    deps = _requirements(META["project"]["dependencies"])
    assert sorted(deps, key=lambda d: d[0]) == [
        (name, set(), f"=={VERSION}", "") for name in sorted(PART_NAMES)
    ]


def test_the_api_extra_pins_the_audit_parts_api_extra() -> None:
    extras = META["project"]["optional-dependencies"]
    assert list(extras) == ["api"]
    assert _requirements(extras["api"]) == [
        ("django-icv-core-audit", {"api"}, f"=={VERSION}", "")
    ]
    assert "api" in PARTS["icv-core-audit"]["project"]["optional-dependencies"]


def test_supports_what_the_parts_support() -> None:
    def supported(project: dict[str, Any]) -> tuple[str, set[str]]:
        classifiers = {
            c
            for c in project["project"]["classifiers"]
            if c.startswith(
                ("Framework :: Django ::", "Programming Language :: Python")
            )
        }
        return project["project"]["requires-python"], classifiers

    for name, part in PARTS.items():
        assert supported(META) == supported(part), name


def test_holds_no_code() -> None:
    files = {
        str(p.relative_to(META_DIR))
        for p in META_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {f for f in files if not f.startswith("tests/")} == {
        "pyproject.toml",
        "README.md",
        "LICENSE",
    }
    hatch = META["tool"]["hatch"]["build"]["targets"]
    # The wheel selects no files at all; the sdist only the README and licence.
    assert hatch["wheel"] == {"bypass-selection": True}
    assert hatch["sdist"] == {"include": ["/README.md", "/LICENSE"]}


def test_installed_metadata_matches() -> None:
    """The built meta wheel, once installed (``nox -s wheels``), says the same."""
    try:
        dist = metadata.distribution("django-icv-core")
    except metadata.PackageNotFoundError:
        pytest.skip("django-icv-core is not installed (only nox -s wheels installs it)")
    assert dist.version == VERSION
    requires = _requirements(dist.requires or [])
    assert sorted(requires, key=lambda r: (r[0], r[3])) == [
        ("django-icv-core-audit", set(), f"=={VERSION}", ""),
        ("django-icv-core-audit", {"api"}, f"=={VERSION}", 'extra == "api"'),
        *[
            (name, set(), f"=={VERSION}", "")
            for name in sorted(PART_NAMES - {"django-icv-core-audit"})
        ],
    ]
    code = [str(f) for f in dist.files or [] if ".dist-info" not in str(f)]
    assert code == []
